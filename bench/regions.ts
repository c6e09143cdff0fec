/**
 * The regions run (`--regions`): Burst alone, one pool spread over 10 placements
 * (5 subscriptions, 2 regions each) with ACI's live quotas and create windows, and a
 * capacity outage in 2 regions mid-run that is given back later. See bench/README.md,
 * "Regions run", for the layout, the bound and what "while the windows bind" means.
 */
import type { EmulatorStats, FaultsInput, LimitsPatch } from "@burst/aci-emulator";
import { BUILT_IN_PRICES } from "../src/pricing.js";
import { startBurst } from "./burstRun.js";
import { emulatorArgs, startEmulatorProcess, type EmulatorSetup } from "./emulatorProcess.js";
import { machine, type Machine } from "./machine.js";
import { burstOutcomes, metersByName, summarise, type RunSummary } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { regionsBound, windowsAllowed, type PlacementWindows, type Windows } from "./regionsBound.js";
import { startStorage } from "./services.js";
import type { Log } from "./comparison.js";
import { LINES_PER_JOB, planWorkload, type DurationModel } from "./workload.js";

/** Shorter than the 5-minute window, so windows bind rather than job length; long enough for a few polls each. */
export const REGIONS_MODEL: DurationModel = { kind: "uniform", minSeconds: 5, maxSeconds: 20 };
export const REGIONS_RG = "bench-regions";
const sub = (k: number) => `00000000-0000-0000-0000-0000000c000${k}`;
/**
 * ACI's capacity is regional: an outage hits every subscription in the region, and the
 * emulator's capacity fault is scoped the same way. So that "2 regions out" is not "all
 * out", the 10 placements span 4 regions and each of the 2 that fail holds one placement.
 * They come first in the pool's order, so a small run uses them too.
 */
export const LAYOUT: { subscriptionId: string; region: string }[] = [
  { subscriptionId: sub(4), region: "northeurope" },
  { subscriptionId: sub(5), region: "westus2" },
  { subscriptionId: sub(1), region: "eastus" },
  { subscriptionId: sub(1), region: "westeurope" },
  { subscriptionId: sub(2), region: "eastus" },
  { subscriptionId: sub(2), region: "westeurope" },
  { subscriptionId: sub(3), region: "eastus" },
  { subscriptionId: sub(3), region: "westeurope" },
  { subscriptionId: sub(4), region: "eastus" },
  { subscriptionId: sub(5), region: "westeurope" },
];
export const OUTAGE_REGIONS = ["northeurope", "westus2"];
/** ACI's live values (quotas page), which the emulator enforces by default; given explicitly so the run says what it used. */
export const LIVE_LIMITS: LimitsPatch = {
  containerGroupsPerRegion: 100,
  standardCoresPerRegion: 100,
  creates: { per5Min: 100, perHour: 300 },
  deletes: { per5Min: 100, perHour: 300 },
};
const WINDOWS: Windows = { per5Min: 100, perHour: 300 };

export interface PlacementResult {
  placement: string;
  outage: boolean;
  creates: number;
  peakLiveGroups: number;
  quota: number;
}

export interface RegionsReport {
  kind: "regions";
  date: string;
  machine: Machine;
  jobs: number;
  cap: number;
  model: DurationModel;
  emulator: EmulatorSetup;
  /** Seconds from the start of submission; null if the run ended before it. */
  outage: { regions: string[]; from: number | null; to: number | null };
  placements: PlacementResult[];
  overQuota: string[];
  /** Windows bind when the jobs exceed what all placements may create at once (N > Σ W). */
  windowsBind: boolean;
  lastCreateSeconds: number;
  idealLastCreateSeconds: number;
  windowsAllowedByLastCreate: number;
  /** Creates ÷ windowsAllowedByLastCreate while the windows bind; null when they never do. */
  createShare: number | null;
  failedByThrottling: number;
  failedByCapacity: number;
  throttledPer1000Calls: number;
  armCalls: number;
  makespanSeconds: number;
  boundSeconds: number;
  cpuMsPerJob: number;
  summary: RunSummary;
  wallSeconds: number;
}

export function regionsSetup(options: BenchOptions): EmulatorSetup {
  return { pullDelayMs: 500, pullJitterMs: 500, startDelayMs: 250, seed: options.seed, limits: LIVE_LIMITS };
}

const key = (p: { subscriptionId: string; region: string }) => `${p.subscriptionId}/${p.region}`.toLowerCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes OUTAGE_REGIONS' capacity away once half the jobs have been created, and gives it back `seconds` later. */
function outageController(
  emulatorUrl: string,
  setup: EmulatorSetup,
  jobs: number,
  seconds: number,
  stats: () => Promise<EmulatorStats>,
  log: Log,
) {
  const base: FaultsInput = JSON.parse(emulatorArgs(setup)[emulatorArgs(setup).indexOf("--faults") + 1]!) as FaultsInput;
  const put = async (faults: FaultsInput) => {
    const res = await fetch(`${emulatorUrl}/_emulator/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(faults),
    });
    if (!res.ok) throw new Error(`emulator faults: HTTP ${res.status} ${await res.text()}`);
  };
  let stopped = false;
  const times: { from?: number; to?: number } = {};
  const done = (async () => {
    while (!stopped && (await stats()).counts.creates < Math.ceil(jobs / 2)) await sleep(500);
    if (stopped) return;
    await put({ ...base, capacity: { regions: OUTAGE_REGIONS, rate: 0, mode: "sync" } });
    times.from = Date.now();
    log(`  capacity taken away in ${OUTAGE_REGIONS.join(", ")}`);
    const until = Date.now() + seconds * 1000;
    while (!stopped && Date.now() < until) await sleep(250);
    await put(base);
    times.to = Date.now();
    log(`  capacity given back in ${OUTAGE_REGIONS.join(", ")}`);
  })();
  return {
    times,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

export async function runRegions(options: BenchOptions, log: Log): Promise<RegionsReport> {
  const began = Date.now();
  const n = options.regionsJobs;
  const setup = regionsSetup(options);
  const jobs = planWorkload(n, options.seed, REGIONS_MODEL);
  const prices = { ...BUILT_IN_PRICES["eastus/Standard"]!, source: "bench: East US rates for every region" };
  const pool = {
    maxConcurrency: options.regionsCap,
    armReadsPerSecond: 25,
    placements: LAYOUT.map((p) => ({ ...p, resourceGroup: REGIONS_RG, prices })),
  };
  const storage = await startStorage();
  const emulator = await startEmulatorProcess(setup);
  try {
    const burst = await startBurst({
      storageConnection: storage.connectionString,
      armEndpoint: emulator.url,
      cap: options.regionsCap,
      subscriptionId: sub(1),
      resourceGroup: REGIONS_RG,
      pool,
    });
    try {
      log(
        `regions: ${n} jobs, cap ${options.regionsCap}, ${LAYOUT.length} placements; outage of ${options.regionsOutageSeconds} s in ${OUTAGE_REGIONS.join(", ")}`,
      );
      const outage = outageController(emulator.url, setup, n, options.regionsOutageSeconds, () => emulator.stats(), log);
      let shown = 0;
      const out = await burst
        .run(jobs, {
          timeoutMs: (2 * 300 * Math.ceil(n / (LAYOUT.length * WINDOWS.per5Min)) + 900) * 1000,
          groupsDeleted: () => emulator.deletes(),
          onProgress: (done) => {
            if (done - shown >= n / 10 || done === n) {
              shown = done;
              log(`  ${done}/${n} done after ${((Date.now() - began) / 1000).toFixed(0)} s`);
            }
          },
        })
        .finally(() => outage.stop());
      const stats = await emulator.stats();
      const summary = summarise({
        label: `Burst regions N=${n}`,
        outcomes: burstOutcomes(out.submitted, out.records, metersByName(stats, REGIONS_RG)),
        startedAt: out.startedAt,
        cap: options.regionsCap,
        windows: WINDOWS,
        stats,
        resourceGroup: REGIONS_RG,
        expectedLinesPerJob: LINES_PER_JOB,
        process: { what: "local Functions host process", atStart: out.usageAtStart, atEnd: out.usageAtEnd },
      });
      const rel = (t: number | undefined) => (t === undefined ? null : (t - out.startedAt) / 1000);
      const from = rel(outage.times.from);
      const to = rel(outage.times.to);
      return {
        kind: "regions",
        date: new Date(began).toISOString(),
        machine: machine(),
        jobs: n,
        cap: options.regionsCap,
        model: REGIONS_MODEL,
        emulator: setup,
        outage: { regions: OUTAGE_REGIONS, from, to },
        ...measure(
          stats,
          jobs.map((j) => (setup.pullDelayMs + setup.startDelayMs) / 1000 + j.durationSeconds),
          out.startedAt,
          from,
          to,
        ),
        failedByThrottling: summary.failedBy429,
        failedByCapacity: summary.perJob.filter((j) => j.error !== undefined && /capacity|quota|ServiceUnavailable/i.test(j.error)).length,
        makespanSeconds: summary.makespanSeconds,
        cpuMsPerJob: summary.process.cpuMsPerJob,
        summary,
        wallSeconds: (Date.now() - began) / 1000,
      };
    } finally {
      await burst.stop();
    }
  } finally {
    await emulator.stop();
    await storage.stop();
  }
}

/** The figures that come from the emulator's ground truth and the windows' arithmetic. */
export function measure(stats: EmulatorStats, occupancy: number[], startedAt: number, outageFrom: number | null, outageTo: number | null) {
  const quota = LIVE_LIMITS.containerGroupsPerRegion!;
  const billing = stats.billing.filter((b) => b.resourceGroup === REGIONS_RG);
  const out = (region: string) => OUTAGE_REGIONS.includes(region);
  const placements: PlacementResult[] = LAYOUT.map((p) => ({
    placement: key(p),
    outage: out(p.region),
    creates: billing.filter((b) => key({ subscriptionId: b.subscriptionId, region: b.location }) === key(p)).length,
    peakLiveGroups: stats.peak.bySubscriptionRegion[key(p)] ?? 0,
    quota,
  }));
  // The bound and the windows' allowance lose each failing placement's outage as it happened.
  const windows: PlacementWindows[] = LAYOUT.map((p) => ({
    id: key(p),
    ...(out(p.region) && outageFrom !== null ? { outage: { from: outageFrom, to: outageTo ?? Infinity } } : {}),
  }));
  const createTimes = billing.map((b) => (Date.parse(b.createdAt) - startedAt) / 1000);
  const lastCreateSeconds = createTimes.length ? Math.max(...createTimes) : 0;
  const bound = regionsBound(windows, WINDOWS, occupancy);
  const windowsBind = occupancy.length > windowsAllowed(windows, WINDOWS, 0);
  const allowed = windowsAllowed(windows, WINDOWS, lastCreateSeconds);
  const armCalls = Object.values(stats.actions).reduce((a, b) => a + b, 0);
  return {
    placements,
    overQuota: placements.filter((p) => p.peakLiveGroups > p.quota).map((p) => p.placement),
    windowsBind,
    lastCreateSeconds,
    idealLastCreateSeconds: bound.lastCreate,
    windowsAllowedByLastCreate: allowed,
    createShare: windowsBind ? billing.length / allowed : null,
    throttledPer1000Calls: armCalls ? (1000 * stats.counts.throttled.total) / armCalls : 0,
    armCalls,
    boundSeconds: bound.seconds,
  };
}
