/** The regions run's table, verdicts and results file (`<date>-regions.json`). */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RegionsReport } from "./regions.js";
import { table, verdictLines, type Verdict } from "./report.js";

const f = (n: number | null, digits = 1) => (n === null || !Number.isFinite(n) ? "–" : n.toFixed(digits));

export function regionsVerdicts(r: RegionsReport): Verdict[] {
  return [
    {
      target: "no placement over its quota (peak live groups ≤ 100)",
      measured: r.overQuota.length
        ? `over: ${r.overQuota.join(", ")}`
        : `highest peak ${Math.max(...r.placements.map((p) => p.peakLiveGroups))}`,
      met: r.overQuota.length === 0,
    },
    {
      target: "creates ≥ 95 % of the summed create windows while they bind",
      measured:
        r.createShare === null
          ? "the windows never bound (N ≤ what all placements may create at once)"
          : `${f(100 * r.createShare)} % (${r.placements.reduce((a, p) => a + p.creates, 0)} of ${r.windowsAllowedByLastCreate} allowed by the last create at ${f(r.lastCreateSeconds)} s)`,
      met: r.createShare === null ? null : r.createShare >= 0.95,
    },
    {
      target: "no job failed by throttling or capacity",
      measured: `${r.failedByThrottling} by throttling, ${r.failedByCapacity} by capacity (${r.summary.failed} failed in all)`,
      met: r.failedByThrottling + r.failedByCapacity === 0,
    },
  ];
}

export function regionsRows(r: RegionsReport): string[][] {
  return [
    ["placement", "outage", "creates", "peak live groups", "quota"],
    ...r.placements.map((p) => [p.placement, p.outage ? "yes" : "", String(p.creates), String(p.peakLiveGroups), String(p.quota)]),
  ];
}

export function printRegions(r: RegionsReport): string {
  const s = r.summary;
  return [
    `Regions run: ${r.jobs} jobs (${r.model.kind === "uniform" ? `${r.model.minSeconds}–${r.model.maxSeconds} s` : "lognormal"}), cap ${r.cap}, ${r.placements.length} placements; outage in ${r.outage.regions.join(", ")} from ${f(r.outage.from)} s to ${f(r.outage.to)} s`,
    table(regionsRows(r)),
    table([
      ["figure", "value"],
      ["jobs succeeded / failed", `${s.succeeded} / ${s.failed}`],
      ["makespan, s", f(r.makespanSeconds)],
      ["ideal bound (windows, outage, durations), s", f(r.boundSeconds)],
      ["bound ÷ makespan", f(r.boundSeconds / r.makespanSeconds, 2)],
      ["last create: Burst / earliest possible, s", `${f(r.lastCreateSeconds)} / ${f(r.idealLastCreateSeconds)}`],
      ["enqueue → create p50 / p99, s", `${f(s.enqueueToCreateSeconds.p50)} / ${f(s.enqueueToCreateSeconds.p99)}`],
      ["exit → detection p50 / p99, s", `${f(s.detectionSeconds.p50)} / ${f(s.detectionSeconds.p99)}`],
      ["429s per 1,000 ARM calls", `${f(r.throttledPer1000Calls, 2)} (${s.armTotals.throttled.total} of ${r.armCalls})`],
      ["host CPU per job, ms", f(r.cpuMsPerJob, 0)],
      ["groups left behind", String(s.groupsLeftBehind)],
    ]),
    verdictLines(regionsVerdicts(r)),
  ].join("\n\n");
}

export function writeRegions(r: RegionsReport, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${r.date.slice(0, 10)}-regions.json`);
  // Per-job rows and live intervals make the file large at N = 2,000; the figures are what it records.
  const { perJob: _perJob, liveIntervals: _live, ...summary } = r.summary;
  writeFileSync(file, JSON.stringify({ ...r, summary, verdicts: regionsVerdicts(r) }, null, 2) + "\n");
  return file;
}
