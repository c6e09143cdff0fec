/**
 * The benchmark harness on a tiny workload: it must run both schedulers to the end and
 * produce a well-formed report whose counts add up. No timing is asserted — figures from
 * six jobs mean nothing; only the report's shape and bookkeeping are checked.
 * Needs `npm run build` first (the harness starts dist/ processes).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runComparison, type ComparisonReport } from "../../bench/comparison.js";
import { DEFAULTS, parseOptions } from "../../bench/options.js";
import { comparisonRows, comparisonVerdicts, printComparison, writeComparison } from "../../bench/report.js";
import type { RunSummary } from "../../bench/metrics.js";
import { jobsToStart } from "../../bench/keda.js";
import { operationOf } from "../../bench/storageProxy.js";

const JOBS = 6;

function expectWellFormed(s: RunSummary): void {
  expect(s.jobs).toBe(JOBS);
  expect(s.succeeded).toBe(JOBS);
  expect(s.failed).toBe(0);
  expect(s.failedBy429).toBe(0);
  // One group per job, created once and deleted once, each with its own billing meter.
  expect(s.armTotals.creates).toBe(JOBS);
  expect(s.armTotals.deletes).toBe(JOBS);
  expect(s.cost.meters).toBe(JOBS);
  expect(s.liveIntervals).toHaveLength(JOBS);
  expect(s.enqueueToCreateSeconds.n).toBe(JOBS);
  expect(s.detectionSeconds.n).toBe(JOBS);
  expect(s.logLines.stored).toBe(s.logLines.expected);
  expect(s.peakLiveGroups).toBeLessThanOrEqual(3);
  for (const v of [
    s.makespanSeconds,
    s.ideal.seconds,
    s.ideal.fifo,
    s.efficiency,
    s.efficiencyVsFifo,
    s.slotUtilisation,
    s.billedUtilisation,
    s.enqueueToCreateSeconds.p50,
    s.enqueueToCreateSeconds.p99,
    s.detectionSeconds.p50,
    s.detectionSeconds.p99,
    s.arm.puts,
    s.arm.reads,
    s.arm.logReads,
    s.arm.deletes,
    s.arm.lists,
    s.arm.allReads,
    s.throttled429,
    s.process.peakRssMb,
    s.process.cpuSeconds,
    s.process.cpuMsPerJob,
  ])
    expect(Number.isFinite(v)).toBe(true);
  expect(s.ideal.seconds).toBeGreaterThan(0);
  expect(s.makespanSeconds).toBeGreaterThan(0);
  expect(s.slotUtilisation).toBeGreaterThan(0);
  expect(s.slotUtilisation).toBeLessThanOrEqual(1);
  expect(s.process.peakRssMb).toBeGreaterThan(0);
}

describe("benchmark harness", () => {
  it("parses its flags and refuses bad ones", () => {
    expect(parseOptions(["--jobs", "10", "--cap", "4", "--seed", "7"])).toMatchObject({ jobs: 10, cap: 4, seed: 7 });
    expect(parseOptions(["--help"])).toBe("help");
    expect(() => parseOptions(["--cap", "0"])).toThrow("--cap");
    expect(parseOptions(["--durations", "hinted", "--order", "shortest-first", "--workload", "budget-blocked"])).toMatchObject({
      durations: "hinted",
      order: "shortest-first",
      budgetBlocked: true,
    });
    expect(parseOptions([])).toMatchObject({ durations: "none", order: undefined, budgetBlocked: false });
    expect(parseOptions(["--durations", "learned"])).toMatchObject({ durations: "learned" });
    expect(() => parseOptions(["--durations", "guessed"])).toThrow("--durations: expected one of none, hinted, learned, got 'guessed'");
    expect(() => parseOptions(["--order", "random"])).toThrow("--order");
    expect(parseOptions(["--submit", "http", "--no-keda"])).toMatchObject({ submit: "http", keda: false });
    expect(() => parseOptions(["--submit", "mail"])).toThrow("--submit: expected queue or http, got 'mail'");
    expect([parseOptions([]), parseOptions(["--notify-exit"])]).toMatchObject([{ notifyExit: false }, { notifyExit: true }]);
  });

  it("starts as many jobs per poll as KEDA's accurate strategy, counting pending jobs as none (kedacore/keda#6157)", () => {
    // maxScale = min(queue, max); when maxScale + running passes max, max − running.
    expect(jobsToStart(200, 0, 40)).toBe(40);
    expect(jobsToStart(200, 40, 40)).toBe(0);
    expect(jobsToStart(200, 25, 40)).toBe(15);
    // Five messages whose five jobs are still starting: five more are started for them.
    expect(jobsToStart(5, 5, 40)).toBe(5);
  });

  it("names each storage request by service and operation, as Azure bills them", () => {
    expect(operationOf("table", "GET", "/devstoreaccount1/jobs(PartitionKey='j1',RowKey='job')")).toBe("get");
    expect(operationOf("table", "GET", "/devstoreaccount1/jobs()?$filter=x")).toBe("query");
    expect(operationOf("table", "POST", "/devstoreaccount1/$batch")).toBe("batch");
    expect(operationOf("queue", "GET", "/devstoreaccount1/q/messages?numofmessages=16")).toBe("get-messages");
    expect(operationOf("queue", "DELETE", "/devstoreaccount1/q/messages/abc?popreceipt=x")).toBe("delete-message");
    expect(operationOf("blob", "PUT", "/devstoreaccount1/logs/a?comp=appendblock")).toBe("put-appendblock");
  });

  it("runs Burst (over HTTP), the baseline and the KEDA-like peer on a tiny workload and reports every metric", async () => {
    const report: ComparisonReport = await runComparison(
      {
        ...DEFAULTS,
        jobs: JOBS,
        cap: 3,
        medianSeconds: 1,
        sigma: 0.3,
        pullDelayMs: 200,
        pullJitterMs: 300,
        startDelayMs: 50,
        write: false,
        submit: "http",
        kedaPollSeconds: 1,
      },
      () => {},
    );
    expectWellFormed(report.burst);
    expectWellFormed(report.baseline);
    expectWellFormed(report.keda!);
    expect(report.storage.total).toBeGreaterThan(0);
    expect(report.storage.byService.table).toBeGreaterThan(0);
    expect(report.burst.cost.accounted).toBe(true);
    expect(Number.isFinite(report.burst.cost.maxAbsSecondsError)).toBe(true);
    expect(report.baseline.cost.accounted).toBe(false);
    expect(report.workload.jobs).toBe(JOBS);

    const rows = comparisonRows(report);
    for (const r of rows) expect(r).toHaveLength(5);
    expect(rows.flat().join(" ")).not.toMatch(/NaN|undefined/);
    const verdicts = comparisonVerdicts(report);
    // Six, and the durations target of the run's mode (the exit-notification one only with --notify-exit).
    expect(verdicts).toHaveLength(7);
    for (const v of verdicts) expect(typeof v.met).toBe("boolean");
    expect(printComparison(report)).toContain("efficiency");

    const dir = mkdtempSync(path.join(tmpdir(), "bench-test-"));
    try {
      const files = writeComparison(report, dir);
      const json = JSON.parse(readFileSync(files.json, "utf8"));
      expect(json.burst.succeeded).toBe(JOBS);
      expect(json.baseline.succeeded).toBe(JOBS);
      expect(json.verdicts).toHaveLength(7);
      expect(readFileSync(files.svg, "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it("measures a second pass put in line by what a first pass of the same workload taught, and reports the estimates' error", async () => {
    const report = await runComparison(
      {
        ...DEFAULTS,
        jobs: 4,
        cap: 2,
        medianSeconds: 1,
        sigma: 0.3,
        pullDelayMs: 200,
        pullJitterMs: 0,
        startDelayMs: 50,
        durations: "learned",
        write: false,
      },
      () => {},
    );
    expect(report.burst.succeeded).toBe(4);
    // Only the measured pass counts: its four jobs, one create each (the learning pass's are on another emulator), each ordered by what its shape learned.
    expect(report.burst.jobs).toBe(4);
    expect(report.burst.arm.puts).toBeLessThan(1.5);
    expect(report.estimates).toMatchObject({ learned: 4, unestimated: 0 });
    expect(report.estimates!.meanAbsRelError).toBeGreaterThanOrEqual(0);
    expect(printComparison(report)).toContain("learned estimates: 4 jobs");
  }, 180_000);
});
