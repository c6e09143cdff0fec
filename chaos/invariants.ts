/** Burst's invariants, checked after a chaos run; each violation is a sentence. */
import type { EmulatorStats } from "@burst/aci-emulator";
import type { JobRecord } from "../src/model.js";
import type { Deps } from "../src/scheduler/deps.js";
import { isFinal } from "../src/jobState.js";
import { roundUsd } from "../src/pricing.js";
import type { ScanResult } from "./scan.js";
import { childId } from "../src/scheduler/array.js";
import { expectedChildLog, expectedLog, type ChaosJob } from "./workload.js";

export interface Samples {
  /** Most live groups seen at once per resource group (sampled; the emulator's peak counter is exact). */
  maxAlive: Record<string, number>;
  maxCommittedUsd: number;
  budgetUsd: number;
}

export async function checkInvariants(a: {
  deps: Deps;
  jobs: ChaosJob[];
  ids: string[];
  records: Map<string, JobRecord | undefined>;
  stats: EmulatorStats;
  samples: Samples;
  caps: Record<string, number>;
  pools: string[];
  rgs: string[];
  secretScan: ScanResult;
  hostOutput: string;
  secret: string;
}): Promise<string[]> {
  const v: string[] = [];

  // Every job reached a final state, and none was lost.
  for (const id of a.ids) {
    const j = a.records.get(id);
    if (!j) v.push(`job ${id} was lost: no record`);
    else if (!isFinal(j.state)) v.push(`job ${id} ended the run in ${j.state}`);
  }

  // Every job ended as it was designed to, not as Burst's own troubles made it: a job that
  // exits 0 Succeeded; one that exits 2 Failed with its own exit code, after its retry.
  for (const job of a.jobs) {
    const j = a.records.get(a.ids[job.index]!);
    if (!j || !isFinal(j.state)) continue;
    const designed = job.exitCode === 0 ? "Succeeded" : "Failed";
    if (j.state !== designed || (designed === "Failed" && j.exitCode !== job.exitCode)) {
      v.push(`job ${j.id} was designed to end ${designed}${designed === "Failed" ? ` with exit code ${job.exitCode}` : ""}; it ended ${j.state}${j.exitCode !== undefined ? ` with exit code ${j.exitCode}` : ""} (${j.reason ?? "no reason"})`);
    }
  }

  // No attempt launched twice: each group name created once.
  for (const [name, n] of Object.entries(a.stats.createsByName)) if (n > 1) v.push(`group ${name} was created ${n} times`);

  // The cap: the emulator's exact peak per resource group.
  for (const rg of a.rgs) {
    const peak = a.stats.peak.byResourceGroup[rg.toLowerCase()] ?? 0;
    if (peak > a.caps[rg]!) v.push(`resource group ${rg} had ${peak} live groups at once; the cap is ${a.caps[rg]}`);
  }

  // The budget: settled plus reserved never above it (sampled), and settled at the end.
  if (a.samples.maxCommittedUsd > a.samples.budgetUsd + 1e-9) v.push(`east committed $${a.samples.maxCommittedUsd} against a budget of $${a.samples.budgetUsd}`);

  // No container group remains.
  const left = a.stats.alive.filter((g) => a.rgs.includes(g.resourceGroup));
  if (left.length) v.push(`${left.length} container groups remain: ${left.map((g) => g.name).slice(0, 5).join(", ")}`);

  // Every job's log is complete: the final attempt of each job that ran to its own end.
  for (const job of a.jobs) {
    const id = a.ids[job.index]!;
    const rec = a.records.get(id);
    const last = rec?.attempts.at(-1);
    if (!rec || !last || !(rec.state === "Succeeded" || (rec.state === "Failed" && last.exitCode === job.exitCode))) continue;
    const text = (await a.deps.logs.read(id, last.n)).text;
    const lines = text.split("\n").filter(Boolean).map((l) => l.slice(l.indexOf(" ") + 1));
    const want = expectedLog(job);
    if (lines.join("\n") !== want.join("\n")) v.push(`job ${id} attempt ${last.n}: log has ${lines.length} lines, expected ${want.length}${rec.log.truncated ? " (flagged truncated)" : ""}`);
  }

  // Every index of an array ended once: each child Succeeded with its own index in its log,
  // the parent's marks say so once each, and it rolled each child's cost up exactly once.
  for (const job of a.jobs.filter((j) => j.arrayCount)) {
    const parent = a.records.get(a.ids[job.index]!);
    if (!parent?.array) continue;
    const count = job.arrayCount!;
    if (parent.array.marks !== "S".repeat(count)) v.push(`array ${parent.id}: marks ${JSON.stringify(parent.array.marks)}, expected every index Succeeded once`);
    let childCosts = 0;
    for (let i = 0; i < count; i++) {
      const child = (await a.deps.jobs.get(childId(parent.id, i)))?.value;
      if (!child) { v.push(`array ${parent.id}: child ${i} was lost`); continue; }
      childCosts += child.costUsd;
      if (child.state !== "Succeeded") v.push(`array child ${child.id} ended ${child.state} (${child.reason ?? "no reason"})`);
      const last = child.attempts.at(-1);
      if (!last) continue;
      const lines = (await a.deps.logs.read(child.id, last.n)).text.split("\n").filter(Boolean).map((l) => l.slice(l.indexOf(" ") + 1));
      if (lines.join("\n") !== expectedChildLog(i, count).join("\n")) v.push(`array child ${child.id}: log ${JSON.stringify(lines)}, expected its own index ${i}`);
    }
    if (Math.abs(roundUsd(childCosts) - roundUsd(parent.costUsd)) > 1e-8) v.push(`array ${parent.id}: its cost $${parent.costUsd} is not its children's $${roundUsd(childCosts)}`);
  }

  // The cost ledger agrees with the jobs: per pool, cost rows = day totals = Σ job costs.
  for (const pool of a.pools) {
    let rows = 0;
    for await (const r of a.deps.ledger.costRows(pool)) rows += r.costUsd;
    let days = 0;
    for await (const t of a.deps.ledger.totals(pool)) if (t.window.startsWith("day-")) days += t.spentUsd;
    const jobs = [...a.records.values()].filter((j) => j?.pool === pool).reduce((s, j) => s + (j?.costUsd ?? 0), 0);
    if (Math.abs(roundUsd(rows) - roundUsd(jobs)) > 1e-8 || Math.abs(roundUsd(days) - roundUsd(jobs)) > 1e-8) {
      v.push(`pool ${pool}: cost rows $${roundUsd(rows)}, day totals $${roundUsd(days)}, jobs $${roundUsd(jobs)} disagree`);
    }
    const snap = await a.deps.ledger.snapshot(pool, new Date());
    if (Object.keys(snap.holders).length) v.push(`pool ${pool} still has slot holders: ${Object.keys(snap.holders).join(", ")}`);
  }

  // Secrets never stored or logged in clear.
  for (const hit of a.secretScan.hits) v.push(`the planted secret is stored in clear: ${hit}`);
  if (a.hostOutput.includes(a.secret)) v.push("the planted secret appears in the hosts' output");
  return v;
}
