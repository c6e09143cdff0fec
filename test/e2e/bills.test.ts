/**
 * The true-up from Azure's bill: the emulator's Cost Management query reports what its
 * meter measured, a while after each group stopped; the reconciler records it on every
 * attempt and in the ledger, and the budget windows count the larger of the estimate and
 * the bill.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trueUpBills } from "../../src/scheduler/trueUp.js";
import { costKey } from "../../src/store/ledgerStore.js";
import type { JobRecord } from "../../src/model.js";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

describe("the true-up from Azure's bill", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      // No container events (the live default), and a pull long enough that the estimate is visibly high.
      emulator: { runtime: "sim", timings: { pullDelayMs: 1500, startDelayMs: 50 }, costs: { reportDelayMs: 500 } },
      pools: { default: { maxConcurrency: 5, resourceGroup: `rg-bills-${Date.now()}` } },
      env: { BURST_BILL_CHECK_SECONDS: "0", BURST_BILL_FINAL_SECONDS: "3" },
    });
  });
  afterAll(async () => { await stack?.stop(); });

  const meterUsd = (job: JobRecord, n = 1) => {
    const m = stack.emulator.stats().billing.find((b) => b.name === job.attempts[n - 1]!.group)!;
    const c = stack.emulator.costs();
    return m.vcpuSeconds * c.vcpuSecondUsd + m.gbSeconds * c.gbSecondUsd;
  };
  /** Runs the true-up until every job's bill is final; returns the jobs as stored. */
  const trueUp = (ids: string[]) => waitUntil(async () => {
    await trueUpBills(stack.deps);
    return Promise.all(ids.map(async (id) => (await stack.deps.jobs.get(id))!.value));
  }, { what: "every bill to be final", until: (jobs) => jobs.every((j) => j.attempts.every((a) => a.billFinal)), timeoutMs: 20_000, intervalMs: 15 });
  const today = () => new Date().toISOString().slice(0, 10);

  it("records the bill on each attempt: equal to the meter, never above the estimate, with the difference in the API", async () => {
    const ids = await Promise.all([1, 2, 3].map((s) => stack.enqueue({ image: "alpine", command: ["sh", "-c", `sleep ${s}`], timeoutSeconds: 60, cpu: 2, memoryGb: 4 })));
    await stack.waitForAll(ids);
    const jobs = await trueUp(ids);
    for (const job of jobs) {
      const a = job.attempts[0]!;
      expect(a.costBasis).toBe("accepted");
      expect(a.billedUsd).toBeCloseTo(meterUsd(job), 9);
      expect(a.costUsd!).toBeGreaterThanOrEqual(a.billedUsd!);
      expect(job.billedUsd).toBe(a.billedUsd);
    }
    const api = await fetch(`${stack.hosts[0]!.url}/api/costs?by=job&code=${stack.env.BURST_API_KEY ?? "burst-local-key"}`);
    const text = await api.text();
    // Nano-dollar differences are the norm here: written as decimals, never as 5e-10.
    expect(text.replace(/"(?:[^"\\]|\\.)*"/g, '""')).not.toMatch(/\d[eE][+-]?\d/);
    const answer = JSON.parse(text) as { rows: { job: string; costUsd: number; billedUsd: number; differenceUsd: number; billedAttempts: number }[] };
    for (const job of jobs) {
      const row = answer.rows.find((r) => r.job === job.id)!;
      expect(row).toMatchObject({ costUsd: job.costUsd, billedUsd: job.billedUsd, billedAttempts: 1 });
      expect(row.differenceUsd).toBeCloseTo(job.billedUsd! - job.costUsd, 9);
      expect(row.differenceUsd).toBeLessThanOrEqual(0);
    }
    // The budget windows keep the larger amount: here, the estimates.
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    expect(snap.spentDayUsd).toBeCloseTo(jobs.reduce((s, j) => s + j.costUsd, 0), 9);
  });

  it("raises the budget's spent totals to the bill when Azure charged more than the estimate", async () => {
    const before = await stack.deps.ledger.snapshot("default", new Date());
    // Azure's prices went up and the pool's price table does not know yet.
    const c = stack.emulator.costs();
    stack.emulator.setCosts({ vcpuSecondUsd: c.vcpuSecondUsd * 2, gbSecondUsd: c.gbSecondUsd * 2 });
    try {
      const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 2"], timeoutSeconds: 60 });
      await stack.waitFor(id);
      const [job] = await trueUp([id]);
      const a = job!.attempts[0]!;
      expect(a.billedUsd!).toBeGreaterThan(a.costUsd!);
      const row = await (async () => { for await (const r of stack.deps.ledger.costRows("default")) if (r.jobId === id) return r; })();
      expect(row).toMatchObject({ costUsd: a.costUsd, billedUsd: a.billedUsd, countedUsd: a.billedUsd, billFinal: true });
      const after = await stack.deps.ledger.snapshot("default", new Date());
      expect(after.spentDayUsd - before.spentDayUsd).toBeCloseTo(a.billedUsd!, 9);
      expect(costKey(id, 1)).toMatch(/-001$/);
      expect(today()).toBe(row!.day);
    } finally {
      stack.emulator.setCosts(c);
    }
  });
});
