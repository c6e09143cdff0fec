/**
 * The pump against real Table storage (Azurite), no ARM: one pump admits more jobs than a
 * Table transaction can hold. A transaction holds at most 100 operations, and admission
 * is the admission row plus one line deletion per job, so the pump admits at most 99 per
 * transaction, round after round. (All in one transaction, it was refused every time, and
 * a pool with free slots and a long line wedged.)
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import { storageClients } from "../../src/storage.js";
import { validateSpec } from "../../src/jobSpec.js";
import { applyPool } from "../../src/poolRules.js";
import { createJob } from "../../src/jobState.js";
import { lineEntry } from "../../src/scheduler/lineEntry.js";
import { ADMIT_PER_TRANSACTION, pumpPool } from "../../src/scheduler/pump.js";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** App settings for a fresh storage prefix with these pools. */
const settingsFor = (pools: Record<string, object>) => ({
  AzureWebJobsStorage: inject("storageConnectionString"),
  BURST_STORAGE_PREFIX: `p${randomBytes(5).toString("hex")}`,
  BURST_SECRET_KEY: randomBytes(32).toString("base64"),
  BURST_POOLS: JSON.stringify({ pools }),
});

describe("the pump", () => {
  it("admits 150 waiting jobs in one pump, in rounds that each fit one Table transaction", async () => {
    const env = settingsFor({ big: { maxConcurrency: 300 } });
    const deps = buildDeps(loadConfig(env), quiet);
    const pool = deps.config.pools.get("big")!;
    const checked = validateSpec({ image: "alpine", command: ["true"], pool: "big" });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const pooled = applyPool(checked.spec, deps.config.pools, deps.config.secrets);
    if (!pooled.ok) throw new Error(JSON.stringify(pooled.errors));
    const ids = Array.from({ length: 150 }, (_, i) => `jround${String(i).padStart(3, "0")}`);
    for (const id of ids) {
      const job = await createJob(deps, "Waiting", { id, pool: "big", spec: pooled.spec, labels: {}, attempts: [] });
      await deps.ledger.addWaiting("big", lineEntry({ ...job!, spec: pooled.spec }, pool));
    }
    expect(ADMIT_PER_TRANSACTION).toBeLessThan(100);

    const pumped = await pumpPool(deps, "big");
    expect([...pumped.admitted].sort()).toEqual(ids);
    const snap = await deps.ledger.snapshot("big", new Date());
    expect(Object.keys(snap.holders).sort()).toEqual(ids);
    expect(await deps.ledger.countWaiting("big", 1000)).toBe(0);
    // Each admitted job's attempt is claimed in the same write (Launching, attempt 1, not yet
    // placed), and its launch is handed on with the record claimed (here not run: no ARM).
    const next = await pumped.marked;
    expect(next).toHaveLength(150);
    expect(next.every((s) => s.step === "launch" && s.claimed?.state === "Launching")).toBe(true);
    const last = (await deps.jobs.get(ids[149]!))!.value;
    expect(last.state).toBe("Launching");
    expect(last.attempts.map((a) => [a.n, a.placement])).toEqual([[1, undefined]]);
  });

  it("in a pool without budgets, admits from the admission entity it wrote last, and checks a full pool on a fresh read", async () => {
    const env = settingsFor({ small: { maxConcurrency: 2 } });
    const config = loadConfig(env);
    // One client per table, so that this instance's ledger reads can be counted.
    const base = storageClients(config.storage);
    const ledgerTable = base.table(config.names.ledgerTable);
    const storage = { ...base, table: (name: string) => (name === config.names.ledgerTable ? ledgerTable : base.table(name)) };
    const [deps, other] = [buildDeps(config, quiet, { storage }), buildDeps(loadConfig(env), quiet)];
    const pool = deps.config.pools.get("small")!;
    const checked = validateSpec({ image: "alpine", command: ["true"], pool: "small" });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const pooled = applyPool(checked.spec, deps.config.pools, deps.config.secrets);
    if (!pooled.ok) throw new Error(JSON.stringify(pooled.errors));
    const wait = async (id: string) => {
      const job = await createJob(deps, "Waiting", { id, pool: "small", spec: pooled.spec, labels: {}, attempts: [] });
      await deps.ledger.addWaiting("small", lineEntry({ ...job!, spec: pooled.spec }, pool));
    };
    await wait("jfirst");
    expect((await pumpPool(deps, "small")).admitted).toEqual(["jfirst"]);
    // The admission entity is the one this instance just wrote: the next pump admits without reading it, and reads it
    // once only to see that the pool it filled is full.
    await wait("jsecond");
    const reads = vi.spyOn(ledgerTable, "getEntity");
    expect((await pumpPool(deps, "small")).admitted).toEqual(["jsecond"]);
    expect(reads.mock.calls.filter((c) => c[1] === "admission")).toHaveLength(1);
    // Another instance frees a slot: the remembered entity says the pool is full, and a fresh read says otherwise.
    expect(await other.ledger.settle("small", "jfirst", 1, 0, 0, new Date())).toBe("settled");
    await wait("jthird");
    expect((await pumpPool(deps, "small")).admitted).toEqual(["jthird"]);
    expect(reads.mock.calls.filter((c) => c[1] === "admission").length).toBeGreaterThan(0);
    reads.mockRestore();
  });

  it("in a longest-first pool whose whole line it sees, starts the job the tail plan gives the free slot, once the pool's hold-over is measured", async () => {
    const env = settingsFor({ measured: { maxConcurrency: 2 }, unmeasured: { maxConcurrency: 2 } });
    const deps = buildDeps(loadConfig(env), quiet);
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const holder = (expectedSeconds: number, sinceAgo: number) => ({
      attempt: 1,
      reservedUsd: 0,
      day,
      month: day.slice(0, 7),
      since: new Date(now - sinceAgo * 1000).toISOString(),
      expectedSeconds,
    });
    const wait = async (pool: string, id: string, expectedSeconds: number) => {
      const checked = validateSpec({ image: "alpine", command: ["true"], pool, expectedSeconds });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      const pooled = applyPool(checked.spec, deps.config.pools, deps.config.secrets);
      if (!pooled.ok) throw new Error(JSON.stringify(pooled.errors));
      const job = await createJob(deps, "Waiting", { id, pool, spec: pooled.spec, labels: {}, attempts: [] });
      await deps.ledger.addWaiting(pool, lineEntry({ ...job!, spec: pooled.spec }, deps.config.pools.get(pool)!));
    };
    for (const pool of ["measured", "unmeasured"]) {
      // One slot is held by a job expected to run 2 s, admitted 9 s ago.
      const entry = { key: `wait-0995-busy-${pool}`, jobId: `jbusy-${pool}`, worstUsd: 0 };
      await deps.ledger.addWaiting(pool, entry);
      expect(await deps.ledger.admit(await deps.ledger.snapshot(pool, new Date(now)), [{ entry, holder: holder(2, 9) }])).toBe(true);
    }
    // In one pool a job expected to run 10 s held its slot 20 s: the pool's jobs hold theirs 10 s longer than expected, so
    // the busy slot should free in about 3 s.
    const warm = { key: "wait-0995-warm", jobId: "jwarm", worstUsd: 0 };
    await deps.ledger.addWaiting("measured", warm);
    expect(await deps.ledger.admit(await deps.ledger.snapshot("measured", new Date(now)), [{ entry: warm, holder: holder(10, 20) }])).toBe(
      true,
    );
    expect(await deps.ledger.settle("measured", "jwarm", 1, 0, 0, new Date(now), true)).toBe("settled");
    expect((await deps.ledger.snapshot("measured", new Date(now))).holdOverSeconds).toBe(10);

    for (const pool of ["measured", "unmeasured"]) {
      await wait(pool, `jlong-${pool}`, 2);
      await wait(pool, `jshort1-${pool}`, 1);
      await wait(pool, `jshort2-${pool}`, 1);
    }
    // Longest-first would start the 2 s job now (done at 12 s), a 1 s job on the busy slot at 3 s (14 s) and the other at
    // 12 s (23 s). Planned, the free slot takes both 1 s jobs (10 + 1 s each: done at 22 s) and the busy one the 2 s job (15 s).
    expect((await pumpPool(deps, "measured")).admitted).toEqual(["jshort1-measured"]);
    // Without a measured hold-over there is no plan: longest first.
    expect((await pumpPool(deps, "unmeasured")).admitted).toEqual(["jlong-unmeasured"]);
  });
});
