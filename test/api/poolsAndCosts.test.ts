import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { Api, ended, startApiStack } from "./apiClient.js";

describe("pools and costs over HTTP", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({
      pools: {
        default: { maxConcurrency: 3, resourceGroup: `rg-pc-${Date.now()}`, budget: { dailyUsd: 5, monthlyUsd: 50 } },
        spare: { maxConcurrency: 2, maxWaiting: 7, resourceGroup: `rg-spare-${Date.now()}` },
      },
    }));
  });
  afterAll(async () => { await stack?.stop(); });

  it("shows each pool's slots, waiting line and budget spent, reserved and remaining per window", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 100 });
    await api.waitFor(r.json.id, (j) => j.state === "Running");
    const busy = await api.get("/api/pools");
    expect(busy.status).toBe(200);
    const pool = busy.json.pools.find((p: { name: string }) => p.name === "default");
    const today = new Date().toISOString().slice(0, 10);
    expect(pool).toMatchObject({ maxConcurrency: 3, slotsInUse: 1, slotsFree: 2, waiting: 0, maxWaiting: 10_000 });
    expect(pool.budget.day).toMatchObject({ window: today, limitUsd: 5 });
    expect(pool.budget.month).toMatchObject({ window: today.slice(0, 7), limitUsd: 50 });
    expect(pool.budget.day.reservedUsd).toBeGreaterThan(0);
    expect(pool.budget.day.remainingUsd).toBeCloseTo(5 - pool.budget.day.spentUsd - pool.budget.day.reservedUsd, 9);
    const spare = busy.json.pools.find((p: { name: string }) => p.name === "spare");
    expect(spare).toMatchObject({ slotsInUse: 0, maxWaiting: 7, budget: { day: { limitUsd: null, remainingUsd: null } } });

    await api.delete(`/api/jobs/${r.json.id}`);
    await api.waitFor(r.json.id, ended);
    const idle = (await api.get("/api/pools")).json.pools.find((p: { name: string }) => p.name === "default");
    expect(idle.slotsInUse).toBe(0);
    expect(idle.budget.day.reservedUsd).toBe(0);
  });

  it("reports costs from the ledger by job, day and pool, with totals that match the jobs' own costs", async () => {
    const r = await api.post("/api/jobs", [
      { image: "alpine", command: ["sh", "-c", "sleep 1"], timeoutSeconds: 60 },
      { image: "alpine", command: ["sh", "-c", "sleep 2"], timeoutSeconds: 60, pool: "spare" },
    ]);
    const jobs = await Promise.all(r.json.map((j: { id: string }) => api.waitFor(j.id, ended)));
    const byJob = await api.get("/api/costs", { query: { by: "job" } });
    expect(byJob.status).toBe(200);
    for (const job of jobs) {
      expect(byJob.json.rows.find((row: { job: string }) => row.job === job.id)).toMatchObject({ pool: job.pool, costUsd: job.costUsd, attempts: 1, jobs: 1 });
    }
    const total = byJob.json.total.costUsd;
    const byPool = await api.get("/api/costs");
    expect(byPool.json.by).toBe("pool");
    expect(byPool.json.rows.map((row: { pool: string }) => row.pool).sort()).toEqual(["default", "spare"]);
    expect(byPool.json.total.costUsd).toBeCloseTo(total, 9);
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await api.get("/api/costs", { query: { by: "day", since: today, until: today, pool: "spare" } });
    expect(byDay.json.rows).toEqual([expect.objectContaining({ day: today, costUsd: jobs[1].costUsd })]);
    expect(byDay.json.windows).toEqual(expect.arrayContaining([expect.objectContaining({ pool: "spare", window: `day-${today}`, spentUsd: jobs[1].costUsd })]));
    const future = await api.get("/api/costs", { query: { since: "2999-01-01" } });
    expect(future.json.rows).toEqual([]);
    expect(future.json.total.costUsd).toBe(0);
  });

  it("keeps the costs of a pool that is no longer configured, in the totals and by name", async () => {
    const { tableClient } = await import("../../src/store/tables.js");
    const ledger = tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.ledgerTable);
    const day = new Date().toISOString().slice(0, 10);
    // What a pool removed from BURST_POOLS left behind: its cost rows and totals.
    await ledger.createEntity({ partitionKey: "retired", rowKey: "cost-jretired0001-001", jobId: "jretired0001", attempt: 1, pool: "retired", costUsd: 0.5, billedSeconds: 100, day, month: day.slice(0, 7), settledAt: new Date().toISOString(), countedUsd: 0.5 });
    await ledger.createEntity({ partitionKey: "retired", rowKey: `day-${day}`, spentUsd: 0.5, jobs: 1 });
    const byPool = await api.get("/api/costs", { query: { by: "pool" } });
    expect(byPool.json.rows).toEqual(expect.arrayContaining([expect.objectContaining({ pool: "retired", costUsd: 0.5 })]));
    const only = await api.get("/api/costs", { query: { pool: "retired", by: "job" } });
    expect(only.status).toBe(200);
    expect(only.json.rows).toEqual([expect.objectContaining({ job: "jretired0001", pool: "retired", costUsd: 0.5 })]);
    expect(only.json.windows).toEqual([{ pool: "retired", window: `day-${day}`, spentUsd: 0.5, jobs: 1 }]);
  });

  it("refuses bad cost parameters with 400 naming each", async () => {
    const r = await api.get("/api/costs", { query: { since: "2026-02-30", until: "yesterday", by: "week", pool: "Not A Pool!" } });
    expect(r.status).toBe(400);
    expect(r.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["by", "pool", "since", "until"]);
    const backwards = await api.get("/api/costs", { query: { since: "2026-02-02", until: "2026-02-01" } });
    expect(backwards.status).toBe(400);
    expect(backwards.json.error.details).toEqual([{ field: "until", rule: "must not be before since" }]);
    expect((await api.get("/api/pools", { query: { pool: "x" } })).status).toBe(400);
  });
});
