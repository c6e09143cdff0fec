/**
 * The scaling run: Burst alone at growing N with short jobs, to see whether the host's
 * CPU per job and its memory stay flat. Each size gets a fresh Azurite, emulator and host,
 * so nothing carries over. The emulator's create/delete windows and quotas are raised
 * (they would otherwise cap 5,000 creates at 300 an hour); ARM's token buckets stay on.
 */
import { startBurst } from "./burstRun.js";
import { startEmulatorProcess, type EmulatorSetup } from "./emulatorProcess.js";
import { fifoMakespan } from "./ideal.js";
import { machine, type Machine } from "./machine.js";
import { burstOutcomes, metersByName, summarise, type RunSummary } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { tryProcUsage } from "./procStats.js";
import { cpuProfArgs, startStorage } from "./services.js";
import { startStorageProxy, type StorageCounts } from "./storageProxy.js";
import { BURST_RG, SUBSCRIPTION, windowsOf, type Log } from "./comparison.js";
import { JOB_CPU, LINES_PER_JOB, planWorkload, type DurationModel } from "./workload.js";

export interface ScaleStep {
  jobs: number;
  wallSeconds: number;
  summary: RunSummary;
  /** Context: Azurite's CPU (Burst's storage) during the step, seconds. */
  azuriteCpuSeconds: number | null;
  /** Burst's host's storage transactions during the step, counted at a proxy in front of Azurite. */
  storage: StorageCounts;
}

export interface ScaleReport {
  kind: "scale";
  date: string;
  machine: Machine;
  cap: number;
  model: DurationModel;
  emulator: EmulatorSetup;
  steps: ScaleStep[];
  wallSeconds: number;
}

export const SCALE_MODEL: DurationModel = { kind: "uniform", minSeconds: 1, maxSeconds: 2 };

export function scaleSetup(options: BenchOptions): EmulatorSetup {
  const big = 1_000_000;
  return {
    pullDelayMs: 500,
    pullJitterMs: 500,
    startDelayMs: 250,
    seed: options.seed,
    limits: {
      creates: { per5Min: big, perHour: big },
      deletes: { per5Min: big, perHour: big },
      containerGroupsPerRegion: Math.max(100, 2 * options.scaleCap),
      standardCoresPerRegion: Math.max(100, 2 * options.scaleCap * JOB_CPU),
      armThrottling: { enabled: true, reads: { capacity: 250, refillPerSecond: 25 }, writes: { capacity: 200, refillPerSecond: 10 }, deletes: { capacity: 200, refillPerSecond: 10 } },
    },
  };
}

export async function runScale(options: BenchOptions, log: Log): Promise<ScaleReport> {
  const began = Date.now();
  const setup = scaleSetup(options);
  const steps: ScaleStep[] = [];
  for (const n of options.scaleSizes) {
    const stepBegan = Date.now();
    const jobs = planWorkload(n, options.seed, SCALE_MODEL);
    const provisioning = (setup.pullDelayMs + setup.pullJitterMs + setup.startDelayMs) / 1000;
    const timeoutMs = (10 * fifoMakespan(jobs.map((j) => j.durationSeconds + provisioning), options.scaleCap) + 300) * 1000;
    const storage = await startStorage(options.azuriteCpuProfDir);
    const proxy = await startStorageProxy(storage.ports);
    const emulator = await startEmulatorProcess(setup);
    try {
      const burst = await startBurst({ storageConnection: storage.connectionString, hostStorageConnection: proxy.connectionString, armEndpoint: emulator.url, cap: options.scaleCap, subscriptionId: SUBSCRIPTION, resourceGroup: BURST_RG, notifyExit: options.notifyExit, emulatorLimits: setup.limits,
        nodeArgs: cpuProfArgs(options.hostCpuProfDir) });
      try {
        log(`scaling: N = ${n}, cap ${options.scaleCap}…`);
        let shown = 0;
        const out = await burst.run(jobs, {
          timeoutMs,
          submit: options.submit,
          onStart: () => proxy.reset(),
          groupsDeleted: () => emulator.deletes(),
          onProgress: (done) => {
            if (done - shown >= n / 5 || done === n) {
              shown = done;
              log(`  ${done}/${n} done after ${((Date.now() - stepBegan) / 1000).toFixed(0)} s`);
            }
          },
        });
        const storageCounts = proxy.counts();
        const stats = await emulator.stats();
        const azuriteCpuSeconds = tryProcUsage(storage.process.pid)?.cpuSeconds ?? null;
        const summary = summarise({
          label: `Burst N=${n}`,
          outcomes: burstOutcomes(out.submitted, out.records, metersByName(stats, BURST_RG)),
          startedAt: out.startedAt,
          cap: options.scaleCap,
          windows: windowsOf(setup.limits),
          stats,
          resourceGroup: BURST_RG,
          expectedLinesPerJob: LINES_PER_JOB,
          process: { what: "local Functions host process", atStart: out.usageAtStart, atEnd: out.usageAtEnd },
        });
        steps.push({ jobs: n, wallSeconds: (Date.now() - stepBegan) / 1000, summary, azuriteCpuSeconds, storage: storageCounts });
        // Each step as it ends, so a run cut short still says what it measured.
        log(`  N = ${n}: ${(n / summary.makespanSeconds).toFixed(2)} jobs/s, efficiency ${summary.efficiency.toFixed(2)}, detection p99 ${summary.detectionSeconds.p99.toFixed(2)} s, ` +
          `429s ${summary.throttled429}, host CPU ${summary.process.cpuMsPerJob.toFixed(1)} ms/job, Azurite CPU ${azuriteCpuSeconds === null ? "–" : ((azuriteCpuSeconds * 1000) / n).toFixed(0)} ms/job`);
      } finally {
        await burst.stop();
      }
    } finally {
      await emulator.stop();
      await proxy.stop();
      await storage.stop();
    }
  }
  return { kind: "scale", date: new Date(began).toISOString(), machine: machine(), cap: options.scaleCap, model: SCALE_MODEL, emulator: setup, steps, wallSeconds: (Date.now() - began) / 1000 };
}
