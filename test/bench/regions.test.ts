/**
 * The regions run on a tiny workload: its bound arithmetic, and a run to the end that
 * must keep every placement within quota, move jobs out of the failing regions without
 * failing any, and produce a report whose fields are all there. No timing is asserted.
 * Needs `npm run build` first (the run starts dist/ processes).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS, parseOptions } from "../../bench/options.js";
import { LAYOUT, runRegions } from "../../bench/regions.js";
import { earliestCreates, regionsBound, windowsAllowed } from "../../bench/regionsBound.js";
import { printRegions, regionsVerdicts, writeRegions } from "../../bench/regionsReport.js";

const JOBS = 40;
const W = { per5Min: 100, perHour: 300 };

describe("regions benchmark", () => {
  it("lets a placement create a window's worth at once, the next window 5 minutes later, and none during its outage", () => {
    const t = earliestCreates({ id: "a", outage: { from: 100, to: 400 } }, W, 201);
    expect(t.slice(0, 100).every((x) => x === 0)).toBe(true);
    // The second window would open at 300 s, but the placement has no capacity until 400 s.
    expect(t.slice(100, 200).every((x) => x === 400)).toBe(true);
    expect(t[200]).toBe(700);
    expect(earliestCreates({ id: "b" }, W, 301)[300]).toBe(3600);
  });

  it("bounds the makespan by the last possible create plus the shortest jobs, and counts what the windows allow", () => {
    const placements = [{ id: "a" }, { id: "b", outage: { from: 10, to: 350 } }];
    const occupancy = [...Array(250).keys()].map((k) => 10 + (k % 5));
    // 200 at 0 s; the next 50 when a's second window opens at 300 s, while b is still out.
    expect(regionsBound(placements, W, occupancy)).toEqual({ seconds: 310, lastCreate: 300 });
    expect(windowsAllowed(placements, W, 0)).toBe(200);
    expect(windowsAllowed(placements, W, 349)).toBe(300);
    expect(windowsAllowed(placements, W, 350)).toBe(400);
  });

  it("parses its flags and refuses a cap above 1,000", () => {
    expect(parseOptions(["--regions", "--regions-jobs", "200", "--regions-cap", "100", "--regions-outage-s", "5"])).toMatchObject({
      regions: true,
      regionsJobs: 200,
      regionsCap: 100,
      regionsOutageSeconds: 5,
    });
    expect(() => parseOptions(["--regions-cap", "1001"])).toThrow("--regions-cap");
  });

  it("runs a tiny regions run to the end without any placement over quota or any job failed, and reports every figure", async () => {
    const report = await runRegions(
      { ...DEFAULTS, regions: true, regionsJobs: JOBS, regionsCap: JOBS, regionsOutageSeconds: 5, write: false },
      () => {},
    );
    expect(report.summary.succeeded).toBe(JOBS);
    expect(report.failedByThrottling + report.failedByCapacity).toBe(0);
    expect(report.placements).toHaveLength(LAYOUT.length);
    expect(report.overQuota).toEqual([]);
    for (const p of report.placements) expect(p.peakLiveGroups).toBeLessThanOrEqual(p.quota);
    expect(report.placements.reduce((a, p) => a + p.creates, 0)).toBeGreaterThanOrEqual(JOBS);
    expect(report.outage.from).not.toBeNull();
    expect(report.outage.to).not.toBeNull();
    // 40 jobs never fill 10 placements' windows, so there is no share to report.
    expect(report.windowsBind).toBe(false);
    expect(report.createShare).toBeNull();
    expect(report.summary.groupsLeftBehind).toBe(0);
    for (const v of [
      report.makespanSeconds,
      report.boundSeconds,
      report.lastCreateSeconds,
      report.throttledPer1000Calls,
      report.cpuMsPerJob,
      report.armCalls,
    ]) {
      expect(Number.isFinite(v)).toBe(true);
    }
    expect(report.boundSeconds).toBeGreaterThan(0);
    expect(report.boundSeconds).toBeLessThanOrEqual(report.makespanSeconds);

    expect(printRegions(report)).not.toMatch(/NaN|undefined/);
    const dir = mkdtempSync(path.join(tmpdir(), "bench-regions-"));
    try {
      const json = JSON.parse(readFileSync(writeRegions(report, dir), "utf8"));
      expect(json.kind).toBe("regions");
      expect(json.placements).toHaveLength(LAYOUT.length);
      expect(json.verdicts).toEqual(regionsVerdicts(report));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
