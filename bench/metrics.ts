/**
 * Turns what a run recorded (the scheduler's own records, or the baseline's timestamps)
 * and the emulator's ground truth (PUT received, container exit, deletion, billing meter,
 * ARM call counters) into the figures the report compares.
 */
import type { BillingEntry, EmulatorStats } from "@burst/aci-emulator";
import { BUILT_IN_PRICES } from "../src/pricing.js";
import type { JobRecord } from "../src/model.js";
import { idealBound, type CreateWindows, type IdealBound } from "./ideal.js";
import type { ProcUsage } from "./procStats.js";
import { busyIntegral, spread, type Spread } from "./stats.js";

const PRICES = BUILT_IN_PRICES["eastus/Standard"]!;

/** One job as either scheduler saw it, joined with the emulator's meters of its groups. */
export interface JobOutcome {
  index: number;
  submittedAt: number;
  /** The groups of its attempts, in order (one unless a platform failure forced a retry). */
  groups: BillingEntry[];
  /** When the scheduler noticed the (last) container's exit. */
  detectedAt?: number;
  /** Burst with notifyExit: when the (last) container's exit report was taken, and whether that report (not a poll) led to the detection. */
  reportedAt?: number;
  detectedByReport?: boolean;
  /** When the scheduler considered the job done (final state / group deleted). */
  doneAt?: number;
  /** When it decided to launch (Burst: the attempt's launch claim); undefined when it has no such step. */
  launchedAt?: number;
  /** Burst: when the job's record was written (its createdAt); undefined for schedulers that keep none. */
  recordedAt?: number;
  /** When its concurrency slot was released, if the scheduler says (the baseline's p-limit); else the group's deletion. */
  slotFreedAt?: number;
  succeeded: boolean;
  error?: string;
  failedBy429: boolean;
  /** Billed seconds and cost the scheduler recorded; undefined when it keeps no accounts. */
  billedSeconds?: number;
  costUsd?: number;
  logLines?: number;
}

export interface ArmPerJob {
  /** PUTs: creates, plus updates and idempotent re-PUTs. */
  puts: number;
  /** GETs of a group plus LRO operation polls. */
  reads: number;
  operationReads: number;
  logReads: number;
  deletes: number;
  lists: number;
  /** Everything drawn from ARM's read bucket: reads, operation polls, log reads and list pages. */
  allReads: number;
}

export interface CostCheck {
  /** False for the baseline: it keeps no cost accounts. */
  accounted: boolean;
  maxAbsSecondsError: number | null;
  meanAbsSecondsError: number | null;
  jobsOffByMoreThanOneSecond: number | null;
  maxAbsUsdError: number | null;
  recordedUsd: number | null;
  meterUsd: number;
  /** Billing meters seen for this run's resource group; must equal the jobs' groups. */
  meters: number;
  /** The job with the largest error, to see why. */
  worst: { index: number; recordedSeconds: number; meterBilledSeconds: number; meterExactSeconds: number; intervals: BillingEntry["intervals"] } | null;
}

export interface RunSummary {
  label: string;
  jobs: number;
  succeeded: number;
  failed: number;
  failedBy429: number;
  /** Why jobs failed: distinct messages (shortened) and how many jobs each. */
  failures: { error: string; jobs: number }[];
  makespanSeconds: number;
  ideal: IdealBound;
  efficiency: number;
  /** FIFO zero-overhead bound ÷ actual: overhead alone, without the cost of job order. */
  efficiencyVsFifo: number;
  /** Live groups (PUT received → deleted), as a share of cap × makespan. */
  slotUtilisation: number;
  /** Billed time (pull → exit), as a share of cap × makespan. */
  billedUtilisation: number;
  peakLiveGroups: number;
  /** Groups never deleted (still there when the run ended). */
  groupsLeftBehind: number;
  enqueueToCreateSeconds: Spread;
  /** The same for the jobs that got the first `cap` PUTs, which never waited for a slot: the dispatch path alone. */
  firstWaveEnqueueToCreateSeconds: Spread;
  /** Where a slot's time goes besides the job itself. */
  lifecycle: {
    /** Launch decision → PUT received (Burst only). */
    launchToPutSeconds: Spread | null;
    /**
     * Where the first wave's enqueue → PUT goes (Burst only): submission sent → the job's
     * record written (the host's pick-up, parsing, the estimate), record → the attempt
     * placed (index, line, admission and claim, room reserved: the attempt's `launchedAt`,
     * which placing sets), placed → PUT received.
     */
    firstWave: { enqueueToRecordSeconds: Spread; recordToPlacedSeconds: Spread; placedToPutSeconds: Spread } | null;
    detectToDeleteSeconds: Spread;
    /** Group deleted → the scheduler records the job done. */
    deleteToDoneSeconds: Spread;
    /** Slot released (k-th) → the (cap + k)-th PUT received: how long a freed slot stays empty. */
    handoffSeconds: Spread;
    /** notifyExit: container exit → its report taken by Burst (queue transit, the host's polling, one read and one write), and the share of ends detected from a report. */
    exitToReportSeconds: Spread;
    detectedByReport: number;
  };
  detectionSeconds: Spread;
  arm: ArmPerJob;
  armTotals: EmulatorStats["counts"];
  throttled429: number;
  cost: CostCheck;
  logLines: { expected: number; stored: number };
  process: { what: string; peakRssMb: number; cpuSeconds: number; cpuMsPerJob: number; cpuSecondsTotal: number };
  /** Per job, seconds from the start of submission (null where not known), for analysis of the tails. */
  perJob: {
    index: number;
    occupancy: number | null;
    submitted: number;
    put: number | null;
    exit: number | null;
    detected: number | null;
    done: number | null;
    billedRecorded: number | null;
    billedMeter: number;
    error?: string;
  }[];
  /** Live groups over time, seconds from the start of submission. */
  liveIntervals: { start: number; end: number }[];
  billedIntervals: { start: number; end: number }[];
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);

/** Groups by name, from this run's resource group only. */
export function metersByName(stats: EmulatorStats, resourceGroup: string): Map<string, BillingEntry[]> {
  const out = new Map<string, BillingEntry[]>();
  for (const b of stats.billing) {
    if (b.resourceGroup.toLowerCase() !== resourceGroup.toLowerCase()) continue;
    const list = out.get(b.name) ?? [];
    list.push(b);
    out.set(b.name, list);
  }
  return out;
}

export function burstOutcomes(submitted: { index: number; jobId: string; submittedAt: number }[], records: JobRecord[], meters: Map<string, BillingEntry[]>): JobOutcome[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  return submitted.map((s) => {
    const r = byId.get(s.jobId);
    const attempts = r?.attempts ?? [];
    const groups = attempts.flatMap((a) => meters.get(a.group) ?? []);
    const last = attempts.at(-1);
    const final = r && ["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"].includes(r.state);
    const why = `${r?.reason ?? ""} ${attempts.map((a) => a.reason ?? "").join(" ")}`;
    return {
      index: s.index,
      submittedAt: s.submittedAt,
      groups,
      detectedAt: ms(last?.detectedAt),
      reportedAt: ms(last?.exitReport?.at),
      detectedByReport: last?.detectedBy === "report",
      doneAt: final ? ms(r!.updatedAt) : undefined,
      launchedAt: ms(attempts[0]?.launchedAt),
      recordedAt: ms(r?.createdAt),
      succeeded: r?.state === "Succeeded",
      error: r && r.state !== "Succeeded" ? `${r.state}: ${r.reason ?? ""}` : r ? undefined : "no job record",
      failedBy429: r?.state !== "Succeeded" && /\b429\b|throttl/i.test(why),
      billedSeconds: attempts.reduce((t, a) => t + (a.billedSeconds ?? 0), 0),
      costUsd: attempts.reduce((t, a) => t + (a.costUsd ?? 0), 0),
      logLines: r?.log.lines,
    };
  });
}

export interface SummaryInput {
  label: string;
  outcomes: JobOutcome[];
  startedAt: number;
  cap: number;
  windows: CreateWindows;
  stats: EmulatorStats;
  resourceGroup: string;
  expectedLinesPerJob: number;
  process: { what: string; atStart: ProcUsage; atEnd: ProcUsage };
}

export function summarise(input: SummaryInput): RunSummary {
  const { outcomes, startedAt: t0, cap } = input;
  const n = outcomes.length;
  const rel = (t: number) => (t - t0) / 1000;
  const doneTimes = outcomes.map((o) => o.doneAt).filter((t): t is number => t !== undefined);
  const end = doneTimes.length ? Math.max(...doneTimes) : t0;
  const makespanSeconds = rel(end);

  const firstGroup = (o: JobOutcome) => o.groups[0];
  const lastGroup = (o: JobOutcome) => o.groups.at(-1);
  // Occupancy: PUT received → container exit, for the attempt that ran the job to its end.
  const occupancy = outcomes.map((o) => {
    const g = lastGroup(o);
    const created = ms(g?.createdAt);
    const exit = ms(g?.lastEnd);
    return created !== undefined && exit !== undefined ? (exit - created) / 1000 : NaN;
  }).filter(Number.isFinite);
  const ideal = idealBound(occupancy, cap, input.windows);

  const meters = [...metersByName(input.stats, input.resourceGroup).values()].flat();
  const liveIntervals = meters.map((b) => ({ start: rel(ms(b.createdAt)!), end: rel(ms(b.deletedAt) ?? end) }));
  const billedIntervals = meters.flatMap((b) => b.intervals.map((i) => ({ start: rel(ms(i.start)!), end: rel(ms(i.end) ?? end) })));

  const enqueueToCreateOf = (list: JobOutcome[]) => list.map((o) => {
    const g = firstGroup(o);
    return g ? (ms(g.createdAt)! - o.submittedAt) / 1000 : NaN;
  }).filter(Number.isFinite);
  const enqueueToCreate = enqueueToCreateOf(outcomes);
  // The jobs that got the first `cap` PUTs never waited for a slot (schedulers may reorder a batch, so not "the first submitted").
  const putAt = (o: JobOutcome) => ms(firstGroup(o)?.createdAt) ?? Infinity;
  const firstWaveJobs = [...outcomes].sort((a, b) => putAt(a) - putAt(b)).slice(0, cap);
  const firstWave = enqueueToCreateOf(firstWaveJobs);
  const deletedAt = (o: JobOutcome) => ms(lastGroup(o)?.deletedAt);
  const between = (from: (o: JobOutcome) => number | undefined, to: (o: JobOutcome) => number | undefined, of = outcomes) =>
    of.map((o) => {
      const a = from(o);
      const b = to(o);
      return a !== undefined && b !== undefined ? (b - a) / 1000 : NaN;
    }).filter(Number.isFinite);
  const frees = outcomes.map((o) => o.slotFreedAt ?? deletedAt(o)).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const puts = meters.map((b) => ms(b.createdAt)!).sort((a, b) => a - b);
  const handoff = frees.map((f, k) => (puts[cap + k] !== undefined ? (puts[cap + k]! - f) / 1000 : NaN)).filter(Number.isFinite);
  const hasLaunch = outcomes.some((o) => o.launchedAt !== undefined);
  const detection = outcomes.map((o) => {
    const exit = ms(lastGroup(o)?.lastEnd);
    return exit !== undefined && o.detectedAt !== undefined ? (o.detectedAt - exit) / 1000 : NaN;
  }).filter(Number.isFinite);

  const c = input.stats.counts;
  const arm: ArmPerJob = {
    puts: (c.creates + c.updates + c.idempotentPuts) / n,
    reads: (c.reads + c.operationReads) / n,
    operationReads: c.operationReads / n,
    logReads: c.logReads / n,
    deletes: c.deletes / n,
    lists: c.lists / n,
    allReads: (c.reads + c.operationReads + c.logReads + c.lists) / n,
  };

  const meterUsd = meters.reduce((t, b) => t + b.vcpuSeconds * PRICES.vcpuSecondUsd + b.gbSeconds * PRICES.gbSecondUsd, 0);
  const accounted = outcomes.some((o) => o.billedSeconds !== undefined);
  let cost: CostCheck = { accounted: false, maxAbsSecondsError: null, meanAbsSecondsError: null, jobsOffByMoreThanOneSecond: null, maxAbsUsdError: null, recordedUsd: null, meterUsd, meters: meters.length, worst: null };
  if (accounted) {
    const errs = outcomes.map((o) => {
      const meterSeconds = o.groups.reduce((t, g) => t + g.billedSeconds, 0);
      const meterCost = o.groups.reduce((t, g) => t + g.vcpuSeconds * PRICES.vcpuSecondUsd + g.gbSeconds * PRICES.gbSecondUsd, 0);
      return { o, meterSeconds, s: Math.abs((o.billedSeconds ?? 0) - meterSeconds), usd: Math.abs((o.costUsd ?? 0) - meterCost) };
    });
    const w = errs.reduce<(typeof errs)[number] | undefined>((a, e) => (!a || e.s > a.s ? e : a), undefined);
    cost = {
      ...cost,
      accounted: true,
      maxAbsSecondsError: Math.max(0, ...errs.map((e) => e.s)),
      meanAbsSecondsError: errs.reduce((t, e) => t + e.s, 0) / Math.max(1, n),
      jobsOffByMoreThanOneSecond: errs.filter((e) => e.s > 1).length,
      maxAbsUsdError: Math.max(0, ...errs.map((e) => e.usd)),
      recordedUsd: outcomes.reduce((t, o) => t + (o.costUsd ?? 0), 0),
      worst: w ? {
        index: w.o.index,
        recordedSeconds: w.o.billedSeconds ?? 0,
        meterBilledSeconds: w.meterSeconds,
        meterExactSeconds: w.o.groups.reduce((t, g) => t + g.seconds, 0),
        intervals: w.o.groups.flatMap((g) => g.intervals),
      } : null,
    };
  }

  const cpuSeconds = input.process.atEnd.cpuSeconds - input.process.atStart.cpuSeconds;
  return {
    label: input.label,
    jobs: n,
    succeeded: outcomes.filter((o) => o.succeeded).length,
    failed: outcomes.filter((o) => !o.succeeded).length,
    failedBy429: outcomes.filter((o) => o.failedBy429).length,
    failures: tally(outcomes.filter((o) => !o.succeeded).map((o) => (o.error ?? "unknown").replace(/\s+/g, " ").slice(0, 160))),
    makespanSeconds,
    ideal,
    efficiency: ideal.seconds / makespanSeconds,
    efficiencyVsFifo: ideal.fifo / makespanSeconds,
    slotUtilisation: busyIntegral(liveIntervals, 0, makespanSeconds) / (cap * makespanSeconds),
    billedUtilisation: busyIntegral(billedIntervals, 0, makespanSeconds) / (cap * makespanSeconds),
    peakLiveGroups: input.stats.peak.byResourceGroup[input.resourceGroup.toLowerCase()] ?? input.stats.peak.total,
    groupsLeftBehind: meters.filter((b) => !b.deleted).length,
    enqueueToCreateSeconds: spread(enqueueToCreate),
    firstWaveEnqueueToCreateSeconds: spread(firstWave),
    lifecycle: {
      launchToPutSeconds: hasLaunch ? spread(between((o) => o.launchedAt, (o) => ms(firstGroup(o)?.createdAt))) : null,
      firstWave: hasLaunch
        ? {
            enqueueToRecordSeconds: spread(between((o) => o.submittedAt, (o) => o.recordedAt, firstWaveJobs)),
            recordToPlacedSeconds: spread(between((o) => o.recordedAt, (o) => o.launchedAt, firstWaveJobs)),
            placedToPutSeconds: spread(between((o) => o.launchedAt, (o) => ms(firstGroup(o)?.createdAt), firstWaveJobs)),
          }
        : null,
      detectToDeleteSeconds: spread(between((o) => o.detectedAt, deletedAt)),
      deleteToDoneSeconds: spread(between(deletedAt, (o) => o.doneAt)),
      handoffSeconds: spread(handoff),
      exitToReportSeconds: spread(between((o) => ms(lastGroup(o)?.lastEnd), (o) => o.reportedAt)),
      detectedByReport: outcomes.filter((o) => o.detectedByReport).length / n,
    },
    detectionSeconds: spread(detection),
    arm,
    armTotals: c,
    throttled429: c.throttled.total,
    cost,
    logLines: { expected: n * input.expectedLinesPerJob, stored: outcomes.reduce((t, o) => t + (o.logLines ?? 0), 0) },
    process: {
      what: input.process.what,
      peakRssMb: input.process.atEnd.peakRssMb,
      cpuSeconds,
      cpuMsPerJob: (cpuSeconds * 1000) / n,
      cpuSecondsTotal: input.process.atEnd.cpuSeconds,
    },
    perJob: outcomes.map((o) => {
      const g = lastGroup(o);
      const put = ms(firstGroup(o)?.createdAt);
      const exit = ms(g?.lastEnd);
      const r3 = (v: number | undefined) => (v === undefined ? null : Math.round(rel(v) * 1000) / 1000);
      return {
        index: o.index,
        occupancy: g && exit !== undefined ? Math.round(exit - ms(g.createdAt)!) / 1000 : null,
        submitted: r3(o.submittedAt)!,
        put: r3(put),
        exit: r3(exit),
        detected: r3(o.detectedAt),
        done: r3(o.doneAt),
        billedRecorded: o.billedSeconds ?? null,
        billedMeter: o.groups.reduce((t, x) => t + x.billedSeconds, 0),
        ...(o.error ? { error: o.error } : {}),
      };
    }),
    liveIntervals,
    billedIntervals,
  };
}

function tally(messages: string[]): { error: string; jobs: number }[] {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].map(([error, jobs]) => ({ error, jobs })).sort((a, b) => b.jobs - a.jobs).slice(0, 5);
}
