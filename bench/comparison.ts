/**
 * The default run: Burst and the naive baseline on the same seeded workload, each against
 * its own instance of the ACI emulator with identical timings, limits and seed (so both
 * see the same provisioning delays, in creation order, and their meters and ARM counters
 * stay apart). By default both run at once, so the machine's noise hits both alike;
 * `--sequential` runs Burst first, then the baseline.
 */
import type { LimitsPatch } from "@burst/aci-emulator";
import { startBaselineProcess } from "./baselineProcess.js";
import type { BaselineInput, BaselineJob, BaselineJobResult } from "./baseline.js";
import { newBenchPrefix, startBurst } from "./burstRun.js";
import { startEmulatorProcess, type EmulatorProcess, type EmulatorSetup } from "./emulatorProcess.js";
import { fifoMakespan, type CreateWindows } from "./ideal.js";
import { machine, type Machine } from "./machine.js";
import { burstOutcomes, metersByName, summarise, type JobOutcome, type RunSummary } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { tryProcUsage } from "./procStats.js";
import { cpuProfArgs, startStorage } from "./services.js";
import { startStorageProxy, type StorageCounts } from "./storageProxy.js";
import { spread, type Spread } from "./stats.js";
import type { JobRecord } from "../src/model.js";
import { percentile, runningSeconds } from "../src/durations.js";
import { JOB_CPU, JOB_IMAGE, JOB_MEMORY_GB, LINES_PER_JOB, planWorkload, type DurationModel } from "./workload.js";

export const SUBSCRIPTION = "00000000-0000-0000-0000-0000000b0001";
/**
 * The learning pass's subscription. Burst paces its creates within each subscription's and
 * region's create windows, which it keeps in storage; the learning pass shares the measured
 * pass's storage (its learned run times are the point), so on the same subscription the
 * measured pass would inherit its creates and wait for the windows to roll over, though its
 * emulator is a fresh one.
 */
const LEARNING_SUBSCRIPTION = "00000000-0000-0000-0000-0000000b0002";
export const BURST_RG = "bench-burst";
export const BASELINE_RG = "bench-baseline";
export const KEDA_RG = "bench-keda";

export interface ComparisonReport {
  kind: "comparison";
  date: string;
  machine: Machine;
  options: BenchOptions;
  workload: { jobs: number; seed: number; model: DurationModel; plannedDurationSeconds: Spread; plannedSumSeconds: number };
  emulator: EmulatorSetup;
  burst: RunSummary;
  /** With `--durations learned`: how good the learned estimates of the measured pass were. */
  estimates?: EstimateAccuracy;
  baseline: RunSummary;
  /** The KEDA-like peer (keda.ts), unless --no-keda. */
  keda?: RunSummary & { duplicateGroups: number; polls: number };
  /** Burst's host's storage transactions during the run, counted at a proxy in front of Azurite. */
  storage: StorageCounts;
  context: {
    wallSeconds: number;
    mode: "concurrent" | "sequential";
    azuriteCpuSeconds: number | null;
    emulatorCpuSeconds: { burst: number | null; baseline: number | null; keda?: number | null };
    loadAverageAfter: number[];
  };
}

/** Create and delete windows scaled to the run: on, but wide enough for one create and one delete per job with room to spare. */
export function scaledLimits(jobs: number, cap: number): LimitsPatch {
  const per5Min = Math.max(100, Math.ceil(1.5 * jobs));
  return {
    creates: { per5Min, perHour: 3 * per5Min },
    deletes: { per5Min, perHour: 3 * per5Min },
    containerGroupsPerRegion: Math.max(100, 2 * cap),
    standardCoresPerRegion: Math.max(100, 2 * cap * JOB_CPU),
    armThrottling: { enabled: true, reads: { capacity: 250, refillPerSecond: 25 }, writes: { capacity: 200, refillPerSecond: 10 }, deletes: { capacity: 200, refillPerSecond: 10 } },
  };
}

export function windowsOf(limits: LimitsPatch): CreateWindows {
  return { per5Min: limits.creates?.per5Min ?? 100, perHour: limits.creates?.perHour ?? 300 };
}

export function baselineOutcomes(results: BaselineJobResult[], meters: ReturnType<typeof metersByName>): JobOutcome[] {
  return results.map((r) => ({
    index: r.index,
    submittedAt: r.submittedAt,
    groups: meters.get(r.name) ?? [],
    detectedAt: r.sawEndAt,
    doneAt: r.doneAt,
    slotFreedAt: r.endedAt,
    succeeded: r.error === undefined && r.exitCode === 0 && r.doneAt !== undefined,
    error: r.error,
    failedBy429: r.errorStatus === 429,
    logLines: r.logLines,
  }));
}

export interface EstimateAccuracy {
  /** Measured jobs put in line by a learned estimate. */
  learned: number;
  /** Measured jobs without one (or that did not run). */
  unestimated: number;
  /** |estimate − actual| / actual over the learned ones: mean and p90. */
  meanAbsRelError: number | null;
  p90AbsRelError: number | null;
}

export type Log = (line: string) => void;

export async function runComparison(options: BenchOptions, log: Log): Promise<ComparisonReport> {
  const began = Date.now();
  const model: DurationModel = { kind: "lognormal", medianSeconds: options.medianSeconds, sigma: options.sigma };
  const jobs = planWorkload(options.jobs, options.seed, model);
  const limits = scaledLimits(options.jobs, options.cap);
  const setup: EmulatorSetup = { pullDelayMs: options.pullDelayMs, pullJitterMs: options.pullJitterMs, startDelayMs: options.startDelayMs, seed: options.seed, limits };
  // Generous: five times a zero-overhead FIFO schedule of the planned work, plus start-up.
  const provisioning = (options.pullDelayMs + options.pullJitterMs + options.startDelayMs) / 1000;
  const timeoutMs = (5 * fifoMakespan(jobs.map((j) => j.durationSeconds + provisioning), options.cap) + 120) * 1000;

  const storage = await startStorage(options.azuriteCpuProfDir);
  const proxy = await startStorageProxy(storage.ports);
  const emulators: EmulatorProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [() => proxy.stop()];
  try {
    const burstEmulator = await startEmulatorProcess(setup);
    emulators.push(burstEmulator);
    const baselineEmulator = await startEmulatorProcess(setup);
    emulators.push(baselineEmulator);
    const kedaEmulator = options.keda ? await startEmulatorProcess(setup) : undefined;
    if (kedaEmulator) emulators.push(kedaEmulator);
    const pool = options.order ? { order: options.order } : undefined;
    const prefix = newBenchPrefix();
    if (options.durations === "learned") {
      // A first pass of the same workload on the same storage and pool, so each job's shape has a learned run time. It runs on
      // its own emulator and host, stopped before the measured pass, so none of its calls, groups or CPU is counted.
      log(`learning pass: ${options.jobs} jobs on Burst alone…`);
      const learningEmulator = await startEmulatorProcess(setup);
      try {
        const learner = await startBurst({ storageConnection: storage.connectionString, armEndpoint: learningEmulator.url, cap: options.cap, subscriptionId: LEARNING_SUBSCRIPTION, resourceGroup: BURST_RG, pool, prefix, emulatorLimits: limits });
        try {
          await learner.run(jobs, { timeoutMs, groupsDeleted: () => learningEmulator.deletes() });
        } finally {
          await learner.stop();
        }
      } finally {
        await learningEmulator.stop();
      }
    }
    const burst = await startBurst({ storageConnection: storage.connectionString, armEndpoint: burstEmulator.url, cap: options.cap, subscriptionId: SUBSCRIPTION, resourceGroup: BURST_RG, hintDurations: options.durations === "hinted", pool, prefix, notifyExit: options.notifyExit, emulatorLimits: limits,
      hostStorageConnection: proxy.connectionString, nodeArgs: cpuProfArgs(options.hostCpuProfDir) });
    cleanups.push(() => burst.stop());
    const peerSettings = { location: "eastus", image: JOB_IMAGE, cpu: JOB_CPU, memoryInGB: JOB_MEMORY_GB, cap: options.cap, pollMs: 2000 };
    const baseline = await startBaselineProcess({
      endpoint: baselineEmulator.url,
      subscriptionId: SUBSCRIPTION,
      settings: { ...peerSettings, resourceGroup: BASELINE_RG },
      jobs: jobs.map((j): BaselineJob => ({ index: j.index, name: `base-${j.index}`, command: j.command })),
    });
    cleanups.push(() => baseline.kill());
    const keda = kedaEmulator ? await startBaselineProcess({
      kind: "keda",
      endpoint: kedaEmulator.url,
      subscriptionId: SUBSCRIPTION,
      settings: { ...peerSettings, resourceGroup: KEDA_RG, pollingIntervalMs: options.kedaPollSeconds * 1000 } as BaselineInput["settings"],
      jobs: jobs.map((j): BaselineJob => ({ index: j.index, name: `keda-${j.index}`, command: j.command })),
    }) : undefined;
    if (keda) cleanups.push(() => keda.kill());

    const mode = options.sequential ? "sequential" : "concurrent";
    log(`running ${options.jobs} jobs, cap ${options.cap}, ${mode}: Burst (host pid ${burst.pid}) and the baseline (pid ${baseline.pid})…`);
    let lastShown = 0;
    const onProgress = (done: number) => {
      if (done - lastShown >= Math.max(10, options.jobs / 10) || done === options.jobs) {
        lastShown = done;
        log(`  Burst: ${done}/${options.jobs} done after ${((Date.now() - began) / 1000).toFixed(0)} s`);
      }
    };
    let burstOut;
    let baseOut;
    let kedaOut;
    let storageCounts: StorageCounts | undefined;
    const runBurst = () => burst.run(jobs, { timeoutMs, onProgress, groupsDeleted: () => burstEmulator.deletes(), submit: options.submit, onStart: () => proxy.reset() })
      .then((out) => { storageCounts = proxy.counts(); return out; });
    // The KEDA-like peer polls every 30 s: give it room for its slower cycle.
    const kedaTimeoutMs = timeoutMs * 3;
    if (options.sequential) {
      burstOut = await runBurst();
      baseline.go();
      baseOut = await withTimeout(baseline.done, timeoutMs, "the baseline");
      keda?.go();
      kedaOut = keda ? await withTimeout(keda.done, kedaTimeoutMs, "the KEDA-like peer") : undefined;
    } else {
      const b = runBurst();
      baseline.go();
      keda?.go();
      [burstOut, baseOut, kedaOut] = await Promise.all([b, withTimeout(baseline.done, timeoutMs, "the baseline"), keda ? withTimeout(keda.done, kedaTimeoutMs, "the KEDA-like peer") : undefined]);
    }
    log(`  baseline: done in ${((baseOut.endedAt - baseOut.startedAt) / 1000).toFixed(0)} s`);
    if (kedaOut) log(`  KEDA-like: done in ${((kedaOut.endedAt - kedaOut.startedAt) / 1000).toFixed(0)} s`);

    const [burstStats, baseStats, kedaStats] = await Promise.all([burstEmulator.stats(), baselineEmulator.stats(), kedaEmulator?.stats()]);
    const emulatorCpu = emulators.map((e) => tryProcUsage(e.child.pid)?.cpuSeconds ?? null);
    const azuriteCpu = tryProcUsage(storage.process.pid)?.cpuSeconds ?? null;
    const windows = windowsOf(limits);
    const burstSummary = summarise({
      label: "Burst",
      outcomes: burstOutcomes(burstOut.submitted, burstOut.records, metersByName(burstStats, BURST_RG)),
      startedAt: burstOut.startedAt,
      cap: options.cap,
      windows,
      stats: burstStats,
      resourceGroup: BURST_RG,
      expectedLinesPerJob: LINES_PER_JOB,
      process: { what: "local Functions host process", atStart: burstOut.usageAtStart, atEnd: burstOut.usageAtEnd },
    });
    const baselineSummary = summarise({
      label: "baseline",
      outcomes: baselineOutcomes(baseOut.results, metersByName(baseStats, BASELINE_RG)),
      startedAt: baseOut.startedAt,
      cap: options.cap,
      windows,
      stats: baseStats,
      resourceGroup: BASELINE_RG,
      expectedLinesPerJob: LINES_PER_JOB,
      process: { what: "dispatcher process", atStart: baseOut.usageAtStart, atEnd: baseOut.usageAtEnd },
    });
    const kedaSummary = kedaOut && kedaStats ? {
      ...summarise({
        label: "KEDA-like",
        outcomes: baselineOutcomes(kedaOut.results, metersByName(kedaStats, KEDA_RG)),
        startedAt: kedaOut.startedAt,
        cap: options.cap,
        windows,
        stats: kedaStats,
        resourceGroup: KEDA_RG,
        expectedLinesPerJob: LINES_PER_JOB,
        process: { what: "dispatcher process", atStart: kedaOut.usageAtStart, atEnd: kedaOut.usageAtEnd },
      }),
      duplicateGroups: kedaOut.duplicateGroups ?? 0,
      polls: kedaOut.polls ?? 0,
    } : undefined;
    return {
      kind: "comparison",
      date: new Date(began).toISOString(),
      machine: machine(),
      options,
      workload: {
        jobs: options.jobs,
        seed: options.seed,
        model,
        plannedDurationSeconds: spread(jobs.map((j) => j.durationSeconds)),
        plannedSumSeconds: jobs.reduce((t, j) => t + j.durationSeconds, 0),
      },
      emulator: setup,
      burst: burstSummary,
      ...(options.durations === "learned" ? { estimates: estimateAccuracy(burstOut.records) } : {}),
      baseline: baselineSummary,
      keda: kedaSummary,
      storage: storageCounts!,
      context: {
        wallSeconds: (Date.now() - began) / 1000,
        mode,
        azuriteCpuSeconds: azuriteCpu,
        emulatorCpuSeconds: { burst: emulatorCpu[0] ?? null, baseline: emulatorCpu[1] ?? null, keda: kedaEmulator ? emulatorCpu[2] ?? null : undefined },
        loadAverageAfter: machine().loadAverage,
      },
    };
  } finally {
    for (const c of cleanups.reverse()) await c();
    await Promise.all(emulators.map((e) => e.stop()));
    await storage.stop();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}


/** How the estimates the measured jobs were put in line by compare with how long they ran. */
export function estimateAccuracy(records: JobRecord[]): EstimateAccuracy {
  const errors: number[] = [];
  let unestimated = 0;
  for (const j of records) {
    const a = j.attempts.at(-1);
    const actual = runningSeconds(a?.startedAt, a?.finishedAt);
    if (j.estimate?.source !== "learned" || actual === undefined) {
      unestimated++;
      continue;
    }
    errors.push(Math.abs(j.estimate.seconds - actual) / Math.max(1, actual));
  }
  const mean = errors.length ? errors.reduce((t, e) => t + e, 0) / errors.length : null;
  return { learned: errors.length, unestimated, meanAbsRelError: mean === null ? null : Math.round(mean * 1000) / 1000, p90AbsRelError: percentile(errors, 0.9) ?? null };
}
