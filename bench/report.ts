/**
 * The report: a plain-text table for the terminal, the target-by-target verdict, and the
 * files under bench/results/ (JSON without the per-group intervals, and the chart).
 */
import { costVerdicts, type CostReport } from "./costModes.js";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { busySlotsSvg } from "./chart.js";
import type { ComparisonReport } from "./comparison.js";
import type { RunSummary } from "./metrics.js";
import type { ScaleReport } from "./scale.js";
import type { BudgetBlockedReport } from "./budgetBlocked.js";
import type { StorageCounts } from "./storageProxy.js";

export interface Verdict {
  target: string;
  measured: string;
  met: boolean | null;
}

const f = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits));
const ratio = (a: number, b: number) => (b === 0 || !Number.isFinite(a / b) ? "–" : (a / b).toFixed(2));

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

export function comparisonRows(r: ComparisonReport): string[][] {
  const b = r.burst;
  const n = r.baseline;
  const k = r.keda;
  // The KEDA-like peer's column goes after the baseline's, when it ran.
  const withKeda = (cells: string[], kedaCell: string): string[] => (k ? [...cells.slice(0, 3), kedaCell, ...cells.slice(3)] : cells);
  const row = (name: string, x: (s: RunSummary) => number | null, digits = 2, showRatio = true): string[] => {
    const bx = x(b);
    const nx = x(n);
    return withKeda([name, f(bx, digits), f(nx, digits), showRatio && bx !== null && nx !== null ? ratio(bx, nx) : ""], k ? f(x(k), digits) : "");
  };
  const text = (name: string, burst: string, base: string, keda: string) => withKeda([name, burst, base, ""], keda);
  const st = r.storage;
  const perJob = (count: number) => f(count / r.options.jobs, 2);
  return [
    withKeda(["metric", "Burst", "baseline", "Burst ÷ baseline"], "KEDA-like"),
    row("jobs succeeded", (s) => s.succeeded, 0, false),
    row("makespan (s)", (s) => s.makespanSeconds, 1),
    row("ideal bound (s)", (s) => s.ideal.seconds, 1, false),
    row("efficiency (ideal ÷ makespan)", (s) => s.efficiency),
    row("FIFO zero-overhead bound (s)", (s) => s.ideal.fifo, 1, false),
    row("efficiency vs FIFO bound", (s) => s.efficiencyVsFifo),
    row("longest-first zero-overhead (s)", (s) => s.ideal.longestFirst, 1, false),
    row("mean slot utilisation (live groups)", (s) => s.slotUtilisation),
    row("mean billed utilisation (pull → exit)", (s) => s.billedUtilisation),
    row("peak live groups", (s) => s.peakLiveGroups, 0, false),
    row("groups left behind (never deleted)", (s) => s.groupsLeftBehind, 0, false),
    row("enqueue → create p50 (s)", (s) => s.enqueueToCreateSeconds.p50),
    row("enqueue → create p99 (s)", (s) => s.enqueueToCreateSeconds.p99),
    row(`  first ${r.options.cap} PUTs (no wait for a slot) p50`, (s) => s.firstWaveEnqueueToCreateSeconds.p50),
    row(`  first ${r.options.cap} PUTs (no wait for a slot) p99`, (s) => s.firstWaveEnqueueToCreateSeconds.p99),
    row("    of which enqueue → job record p50", (s) => s.lifecycle.firstWave?.enqueueToRecordSeconds.p50 ?? null),
    row("    of which record → attempt placed p50", (s) => s.lifecycle.firstWave?.recordToPlacedSeconds.p50 ?? null),
    row("    of which placed → PUT p50", (s) => s.lifecycle.firstWave?.placedToPutSeconds.p50 ?? null),
    row("slot handoff: freed → next PUT p50 (s)", (s) => s.lifecycle.handoffSeconds.p50),
    row("slot handoff: freed → next PUT p99 (s)", (s) => s.lifecycle.handoffSeconds.p99),
    row("exit → detection p50 (s)", (s) => s.detectionSeconds.p50),
    row("exit → detection p99 (s)", (s) => s.detectionSeconds.p99),
    row("exit → detection max (s)", (s) => s.detectionSeconds.max),
    ...(r.options.notifyExit ? [
      row("  exit → report taken p50 (s)", (s) => s.lifecycle.exitToReportSeconds.p50),
      row("  exit → report taken p99 (s)", (s) => s.lifecycle.exitToReportSeconds.p99),
      row("  ends detected from a report (share)", (s) => s.lifecycle.detectedByReport),
    ] : []),
    row("detection → group deleted p50 (s)", (s) => s.lifecycle.detectToDeleteSeconds.p50),
    row("group deleted → job done p50 (s)", (s) => s.lifecycle.deleteToDoneSeconds.p50),
    row("ARM PUTs / job", (s) => s.arm.puts),
    row("ARM reads / job (GET + LRO polls)", (s) => s.arm.reads),
    row("  of which LRO operation polls", (s) => s.arm.operationReads),
    row("ARM log reads / job", (s) => s.arm.logReads),
    row("ARM deletes / job", (s) => s.arm.deletes),
    row("ARM lists / job", (s) => s.arm.lists),
    row("ARM read-bucket calls / job (all)", (s) => s.arm.allReads),
    row("429s received", (s) => s.throttled429, 0),
    text("jobs failed (of which by a 429)", `${b.failed} (${b.failedBy429})`, `${n.failed} (${n.failedBy429})`, k ? `${k.failed} (${k.failedBy429})` : ""),
    ...(k ? [text("groups started for a message already taken", "0", "0", String(k.duplicateGroups))] : []),
    text(" ", "", "", ""),
    text("cost error max (billed s / job)", f(b.cost.maxAbsSecondsError, 0), "no cost accounting", "no cost accounting"),
    text("cost error max ($ / job)", f(b.cost.maxAbsUsdError, 8), "no cost accounting", "no cost accounting"),
    text("recorded cost ÷ meter ($)", b.cost.recordedUsd === null ? "–" : `${f(b.cost.recordedUsd, 4)} ÷ ${f(b.cost.meterUsd, 4)}`, `– ÷ ${f(n.cost.meterUsd, 4)}`, k ? `– ÷ ${f(k.cost.meterUsd, 4)}` : ""),
    text("log lines stored / printed", `${b.logLines.stored}/${b.logLines.expected}`, `${n.logLines.stored}/${n.logLines.expected}`, k ? `${k.logLines.stored}/${k.logLines.expected}` : ""),
    ...(st ? [
      text("storage transactions / job (host)", perJob(st.total), "none", "none"),
      text("  tables / queues / blobs", `${perJob(st.byService.table)} / ${perJob(st.byService.queue)} / ${perJob(st.byService.blob)}`, "", ""),
      text("  $ per 1,000 jobs (see STORAGE_PRICES)", f(storageUsd(st) * 1000 / r.options.jobs, 4), "", ""),
    ] : []),
    row(`peak RSS (MB)`, (s) => s.process.peakRssMb, 1),
    row(`CPU during the run (s)`, (s) => s.process.cpuSeconds, 2),
    row(`CPU per job (ms)`, (s) => s.process.cpuMsPerJob, 1),
  ];
}

export function comparisonVerdicts(r: ComparisonReport): Verdict[] {
  const b = r.burst;
  const n = r.baseline;
  const readRatio = b.arm.reads / n.arm.reads;
  const allRatio = b.arm.allReads / n.arm.allReads;
  return [
    { target: "efficiency ≥ 0.95", measured: `${f(b.efficiency)} (makespan ${f(b.makespanSeconds, 1)} s vs ideal ${f(b.ideal.seconds, 1)} s; ${f(b.efficiencyVsFifo)} of the FIFO zero-overhead bound ${f(b.ideal.fifo, 1)} s)`, met: b.efficiency >= 0.95 },
    {
      target: "detection p99 ≤ 2 s with reads inside the ARM read bucket",
      measured: `p99 ${f(b.detectionSeconds.p99)} s (p50 ${f(b.detectionSeconds.p50)} s); read 429s ${b.armTotals.throttled.reads}`,
      met: b.detectionSeconds.p99 <= 2 && b.armTotals.throttled.reads === 0,
    },
    { target: "ARM reads per job ≤ ½ the baseline's", measured: `${f(b.arm.reads)} vs ${f(n.arm.reads)} (ratio ${f(readRatio)}); all read-bucket calls ${f(b.arm.allReads)} vs ${f(n.arm.allReads)} (ratio ${f(allRatio)})`, met: readRatio <= 0.5 },
    // Judged only when the run has it (--notify-exit).
    ...(r.options.notifyExit
      ? [{
        target: "with exit notification: detection p99 ≤ 0.5 s, and read-bucket calls per job ≤ ½ the baseline's",
        measured: `p99 ${f(b.detectionSeconds.p99)} s (p50 ${f(b.detectionSeconds.p50)} s); all read-bucket calls ${f(b.arm.allReads)} vs ${f(n.arm.allReads)} (ratio ${f(allRatio)})`,
        met: b.detectionSeconds.p99 <= 0.5 && allRatio <= 0.5,
      }]
      : []),
    { target: "no job failed by a 429", measured: `${b.failedBy429} of ${b.jobs} (429s received: ${b.throttled429}); baseline ${n.failedBy429} (429s: ${n.throttled429})`, met: b.failedBy429 === 0 && b.succeeded === b.jobs },
    { target: "cost error ≤ 1 billed second per job", measured: b.cost.accounted ? `max ${f(b.cost.maxAbsSecondsError, 0)} s, mean ${f(b.cost.meanAbsSecondsError, 3)} s, ${b.cost.jobsOffByMoreThanOneSecond} jobs off by > 1 s; baseline keeps no cost accounts` : "Burst recorded no cost", met: b.cost.accounted && (b.cost.maxAbsSecondsError ?? Infinity) <= 1 },
    ...((r.options.durations ?? "none") !== "none"
      ? [{ target: "with durations known: efficiency ≥ 0.95 of the ideal bound", measured: f(b.efficiency), met: b.efficiency >= 0.95 }]
      : [{ target: "without durations: ≥ 0.98 of the FIFO bound", measured: f(b.efficiencyVsFifo), met: b.efficiencyVsFifo >= 0.98 }]),
    { target: "Burst makespan ≤ 0.85 × baseline's", measured: `${f(b.makespanSeconds, 1)} s vs ${f(n.makespanSeconds, 1)} s (ratio ${ratio(b.makespanSeconds, n.makespanSeconds)})`, met: b.makespanSeconds <= 0.85 * n.makespanSeconds },
  ];
}

/**
 * Azure Storage transaction prices, US$ per 10,000, Standard general-purpose v2, LRS, East US:
 * the pricing pages https://azure.microsoft.com/pricing/details/storage/tables/,
 * …/storage/queues/ and …/storage/blobs/ (hot tier). Those pages could not be read from
 * this machine, so these are the list prices as last known to us (2025), to be checked
 * against the pages before quoting: tables $0.00036 per 10,000 transactions; queues
 * $0.004 per 10,000 class-1 (put, update, delete, create) and class-2 (get, peek,
 * metadata) operations; blobs $0.065 per 10,000 writes and lists, $0.005 per 10,000 reads.
 */
export const STORAGE_PRICES = { tablePer10k: 0.00036, queuePer10k: 0.004, blobWritePer10k: 0.065, blobReadPer10k: 0.005 };

export function storageUsd(c: StorageCounts): number {
  let blobWrites = 0;
  for (const [op, n] of Object.entries(c.byOperation)) if (op.startsWith("blob ") && !/ (read|get-|head)/.test(op)) blobWrites += n;
  const blobReads = c.byService.blob - blobWrites;
  const p = STORAGE_PRICES;
  return (c.byService.table * p.tablePer10k + c.byService.queue * p.queuePer10k + blobWrites * p.blobWritePer10k + blobReads * p.blobReadPer10k) / 10_000;
}

export function storageLines(c: StorageCounts, jobs: number): string {
  const ops = Object.entries(c.byOperation).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${(n / jobs).toFixed(2)}`);
  return `storage transactions per job (Burst's host, at the proxy): ${(c.total / jobs).toFixed(2)} — ${ops.join(", ")}`;
}

export function verdictLines(vs: Verdict[]): string {
  return vs.map((v) => `${v.met === null ? "n/a " : v.met ? "MET " : "MISS"}  ${v.target}: ${v.measured}`).join("\n");
}

export function printComparison(r: ComparisonReport): string {
  const w = r.workload;
  const model = w.model.kind === "lognormal" ? `lognormal, median ${w.model.medianSeconds} s, σ ${w.model.sigma}` : `uniform ${w.model.minSeconds}–${w.model.maxSeconds} s`;
  return [
    `Burst benchmark — ${r.date} — ${r.machine.nproc} × ${r.machine.cpuModel}, node ${r.machine.node}, load ${r.machine.loadAverage.join(" ")}`,
    `workload: ${w.jobs} jobs (${model}; planned p50 ${f(w.plannedDurationSeconds.p50, 1)} s, p99 ${f(w.plannedDurationSeconds.p99, 1)} s, max ${f(w.plannedDurationSeconds.max, 1)} s), cap ${r.options.cap}, seed ${w.seed}; ` +
      `pull ${r.emulator.pullDelayMs} ms + U[0, ${r.emulator.pullJitterMs}) ms, start ${r.emulator.startDelayMs} ms; runs ${r.context.mode}; ` +
      `durations ${r.options.durations ?? "none"}, pool order ${r.options.order ?? "Burst's default"}; notifyExit ${r.options.notifyExit ? "on" : "off"}`,
    "",
    table(comparisonRows(r)),
    "",
    `ideal bound: max(Σ occupancy / C = ${f(r.burst.ideal.workPerSlot, 1)} s, longest = ${f(r.burst.ideal.longestJob, 1)} s, create windows = ${f(r.burst.ideal.createRate, 1)} s)`,
    ...(r.storage ? [storageLines(r.storage, r.options.jobs)] : []),
    ...[r.burst, r.baseline, ...(r.keda ? [r.keda] : [])].flatMap((s) => s.failures.map((x) => `${s.label} failures: ${x.jobs} × ${x.error}`)),
    ...(r.estimates ? [`learned estimates: ${r.estimates.learned} jobs put in line by one (${r.estimates.unestimated} without); |estimate − actual| / actual mean ${f(r.estimates.meanAbsRelError, 3)}, p90 ${f(r.estimates.p90AbsRelError, 3)}`] : []),
    `context: wall ${f(r.context.wallSeconds, 0)} s; Azurite CPU ${f(r.context.azuriteCpuSeconds, 1)} s (Burst's storage; the baseline uses none); emulator CPU ${f(r.context.emulatorCpuSeconds.burst, 1)} s / ${f(r.context.emulatorCpuSeconds.baseline, 1)} s`,
    "",
    verdictLines(comparisonVerdicts(r)),
    "  host CPU per job and peak memory flat from N = 200 to 5,000: see `npm run bench -- --scale`",
  ].join("\n");
}

/** The JSON on disk: the summaries without the per-group intervals (the chart has them). */
export function comparisonJson(r: ComparisonReport): unknown {
  const strip = (s: RunSummary) => ({ ...s, liveIntervals: undefined, billedIntervals: undefined });
  return { ...r, burst: strip(r.burst), baseline: strip(r.baseline), keda: r.keda && strip(r.keda), verdicts: comparisonVerdicts(r) };
}

export function writeComparison(r: ComparisonReport, outDir: string): { json: string; svg: string } {
  mkdirSync(outDir, { recursive: true });
  // Runs with durations or an order keep their own files beside the default run's.
  const day = `${r.date.slice(0, 10)}${r.options.durations !== "none" ? `-${r.options.durations}` : ""}${r.options.order ? `-${r.options.order}` : ""}`;
  const json = path.join(outDir, `${day}.json`);
  const svg = path.join(outDir, `${day}-slots.svg`);
  writeFileSync(json, JSON.stringify(comparisonJson(r), null, 2) + "\n");
  writeFileSync(svg, busySlotsSvg({
    title: `Busy slots: ${r.workload.jobs} jobs, cap ${r.options.cap}, seed ${r.workload.seed} (${r.date.slice(0, 16)}Z)`,
    cap: r.options.cap,
    idealSeconds: r.burst.ideal.seconds,
    series: [
      { label: "Burst", color: "#1f5fbf", intervals: r.burst.liveIntervals, billed: r.burst.billedIntervals, makespan: r.burst.makespanSeconds },
      { label: "baseline (p-limit)", color: "#d2691e", intervals: r.baseline.liveIntervals, billed: r.baseline.billedIntervals, makespan: r.baseline.makespanSeconds },
      ...(r.keda ? [{ label: "KEDA-like (30 s polls)", color: "#2e8b57", intervals: r.keda.liveIntervals, billed: r.keda.billedIntervals, makespan: r.keda.makespanSeconds }] : []),
    ],
  }));
  return { json, svg };
}

export function scaleRows(r: ScaleReport): string[][] {
  return [
    ["N", "makespan (s)", "jobs/s", "efficiency", "detect p50/p99 (s)", "reads/job", "all reads/job", "429s", "failed", "host CPU (s)", "CPU ms/job", "peak RSS (MB)", "cost err max (s)", "Azurite CPU ms/job", "storage tx/job", "storage ms/job"],
    ...r.steps.map((s) => [
      String(s.jobs),
      f(s.summary.makespanSeconds, 1),
      f(s.jobs / s.summary.makespanSeconds, 2),
      f(s.summary.efficiency),
      `${f(s.summary.detectionSeconds.p50)}/${f(s.summary.detectionSeconds.p99)}`,
      f(s.summary.arm.reads),
      f(s.summary.arm.allReads),
      String(s.summary.throttled429),
      String(s.summary.failed),
      f(s.summary.process.cpuSeconds, 1),
      f(s.summary.process.cpuMsPerJob, 1),
      f(s.summary.process.peakRssMb, 1),
      f(s.summary.cost.maxAbsSecondsError, 0),
      s.azuriteCpuSeconds === null ? "–" : f((s.azuriteCpuSeconds * 1000) / s.jobs, 0),
      f(s.storage.total / s.jobs, 1),
      f(Object.values(s.storage.msByResource).reduce((a, b) => a + b, 0) / s.jobs, 0),
    ]),
  ];
}

export function scaleVerdicts(r: ScaleReport): Verdict[] {
  const first = r.steps[0];
  const last = r.steps.at(-1);
  if (!first || !last || first === last) return [{ target: "host CPU per job and peak memory flat", measured: "needs at least two sizes", met: null }];
  const cpu = last.summary.process.cpuMsPerJob / first.summary.process.cpuMsPerJob;
  const rss = last.summary.process.peakRssMb / first.summary.process.peakRssMb;
  return [
    { target: `host CPU per job flat (N ${first.jobs} → ${last.jobs}, within 1.25×)`, measured: `${f(first.summary.process.cpuMsPerJob, 1)} → ${f(last.summary.process.cpuMsPerJob, 1)} ms/job (×${f(cpu)})`, met: cpu <= 1.25 },
    { target: `host peak memory flat (N ${first.jobs} → ${last.jobs}, within 1.25×)`, measured: `${f(first.summary.process.peakRssMb, 1)} → ${f(last.summary.process.peakRssMb, 1)} MB (×${f(rss)})`, met: rss <= 1.25 },
  ];
}

export function printScale(r: ScaleReport): string {
  return [
    `Burst scaling run — ${r.date} — ${r.machine.nproc} × ${r.machine.cpuModel}, node ${r.machine.node}`,
    `jobs: uniform ${r.model.kind === "uniform" ? `${r.model.minSeconds}–${r.model.maxSeconds}` : "?"} s, cap ${r.cap}, pull ${r.emulator.pullDelayMs} ms + U[0, ${r.emulator.pullJitterMs}) ms, start ${r.emulator.startDelayMs} ms; ` +
      `create/delete windows raised to ${r.emulator.limits.creates?.per5Min} per 5 min; ARM token buckets on (reads 250, 25/s)`,
    "",
    table(scaleRows(r)),
    "",
    verdictLines(scaleVerdicts(r)),
    `wall time of the scaling run: ${f(r.wallSeconds / 60, 1)} min`,
  ].join("\n");
}

export function writeScale(r: ScaleReport, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${r.date.slice(0, 10)}-scale.json`);
  const steps = r.steps.map((s) => ({ ...s, summary: { ...s.summary, liveIntervals: undefined, billedIntervals: undefined, perJob: undefined } }));
  writeFileSync(file, JSON.stringify({ ...r, steps, verdicts: scaleVerdicts(r) }, null, 2) + "\n");
  return file;
}

export function printCost(r: CostReport): string {
  const rows: string[][] = [
    ["container events", "attempts", "basis", "estimate − meter (s) min / mean / max", "estimate $", "meter $", "bill $", "max |bill − meter| $"],
    ...r.modes.map((m) => [
      m.mode, String(m.attempts), Object.entries(m.basis).map(([k, v]) => `${k} ${v}`).join(", "),
      `${m.estimateSecondsOver.min} / ${f(m.estimateSecondsOver.mean)} / ${m.estimateSecondsOver.max}`,
      f(m.estimateUsd, 6), f(m.meterUsd, 6), f(m.billedUsd, 6), m.billMaxAbsErrorUsd.toExponential(1),
    ]),
  ];
  return [
    `Burst cost run — ${r.date} — ${r.machine.nproc} × ${r.machine.cpuModel}, node ${r.machine.node}`,
    `${r.jobs} jobs per mode (lognormal, median ${r.model.kind === "lognormal" ? r.model.medianSeconds : "?"} s), cap ${r.cap}, PUT → pull ${r.emulator.scheduleDelayMs ?? 0} ms, pull ${r.emulator.pullDelayMs} ms + U[0, ${r.emulator.pullJitterMs}) ms, start ${r.emulator.startDelayMs} ms, bills reported ${r.emulator.costReportDelayMs} ms after a group stops`,
    "",
    table(rows),
    "",
    verdictLines(costVerdicts(r)),
    `wall time of the cost run: ${f(r.wallSeconds / 60, 1)} min`,
  ].join("\n");
}

export function writeCost(r: CostReport, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${r.date.slice(0, 10)}-cost.json`);
  writeFileSync(file, JSON.stringify({ ...r, verdicts: costVerdicts(r) }, null, 2) + "\n");
  return file;
}

export function budgetBlockedVerdicts(r: BudgetBlockedReport): Verdict[] {
  const on = r.runs.find((x) => x.backfill);
  const off = r.runs.find((x) => !x.backfill);
  if (!on || !off) return [];
  return [
    { target: "small jobs finish sooner with backfill (mean)", measured: `${f(on.smallDone.mean, 1)} s vs ${f(off.smallDone.mean, 1)} s`, met: on.smallDone.mean < off.smallDone.mean },
    // Noise: the head's start is found by polling, so a second either way is measurement, not delay.
    { target: "the head starts no later after the blocker ends with backfill (±1 s)", measured: `${f(on.headWaitAfterBlocker, 2)} s vs ${f(off.headWaitAfterBlocker, 2)} s`, met: on.headWaitAfterBlocker <= off.headWaitAfterBlocker + 1 },
    { target: "0 jobs failed", measured: `${on.failed + off.failed}`, met: on.failed + off.failed === 0 },
  ];
}

export function printBudgetBlocked(r: BudgetBlockedReport): string {
  const w = r.workload;
  const rows = [
    ["backfill", "blocker ended (s)", "head started (s)", "head start − blocker end (s)", "small jobs started p50 (s)", "small jobs done p50 / mean / max (s)", "makespan (s)", "failed"],
    ...r.runs.map((x) => [x.backfill ? "on" : "off", f(x.blockerEnded, 1), f(x.headStarted, 1), f(x.headWaitAfterBlocker, 2), f(x.smallStarted.p50, 1), `${f(x.smallDone.p50, 1)} / ${f(x.smallDone.mean, 1)} / ${f(x.smallDone.max, 1)}`, f(x.makespan, 1), String(x.failed)]),
  ];
  return [
    `Burst budget-blocked run — ${r.date} — ${r.machine.nproc} × ${r.machine.cpuModel}, node ${r.machine.node}`,
    `cap ${w.cap}, daily budget $${w.budgetUsd}; blocker runs ${w.blocker.runSeconds} s (timeout ${w.blocker.timeoutSeconds} s), head runs ${w.head.runSeconds} s (timeout ${w.head.timeoutSeconds} s), ` +
      `${w.smallJobs} small jobs of ${f(w.small.runSeconds.p50, 1)} s median (timeout ${w.small.timeoutSeconds} s); times from the blocker's submission; both runs at once`,
    "",
    table(rows),
    "",
    verdictLines(budgetBlockedVerdicts(r)),
  ].join("\n");
}

export function writeBudgetBlocked(r: BudgetBlockedReport, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${r.date.slice(0, 10)}-budget-blocked.json`);
  writeFileSync(file, JSON.stringify({ ...r, verdicts: budgetBlockedVerdicts(r) }, null, 2) + "\n");
  return file;
}
