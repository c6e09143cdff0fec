/**
 * The pool ledger against real Table storage (Azurite): a pool of a thousand slots keeps
 * every holder in its one admission entity, although a Table string property holds at
 * most 32K characters, and settling or admitting afterwards still sees them all.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { TableLedgerStore, type WaitingEntry } from "../../src/store/ledgerStore.js";
import { tableClient } from "../../src/store/tables.js";
import type { Holder } from "../../src/admission.js";

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

function holder(now: Date): Holder {
  return {
    attempt: 1,
    reservedUsd: 0.012345,
    day: now.toISOString().slice(0, 10),
    month: now.toISOString().slice(0, 7),
    since: now.toISOString(),
    worstSeconds: 3600,
  };
}

describe("the pool ledger", () => {
  it("keeps a thousand slot holders in one admission entity, admitted in rounds of 99, and settles one of them", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const ledger = new TableLedgerStore(table);
    const now = new Date();
    const jobIds = Array.from({ length: 1000 }, (_, i) => `j${String(i).padStart(4, "0")}-${randomBytes(10).toString("hex")}`);
    for (let i = 0; i < jobIds.length; i += 99) {
      const snap = await ledger.snapshot("big", now);
      const admitted = jobIds
        .slice(i, i + 99)
        .map((jobId) => ({ entry: { key: `wait-5-${jobId}`, jobId, worstUsd: 0.012345 } as WaitingEntry, holder: holder(now) }));
      await Promise.all(admitted.map((a) => ledger.addWaiting("big", a.entry)));
      expect(await ledger.admit(snap, admitted)).toBe(true);
    }
    const entity = await table.getEntity<Record<string, unknown>>("big", "admission");
    expect(String(entity.holders).length).toBeLessThanOrEqual(32 * 1024);
    expect(entity.slotsInUse).toBe(1000);
    expect(await ledger.countWaiting("big", 10)).toBe(0);

    const full = await ledger.snapshot("big", now);
    expect(Object.keys(full.holders).sort()).toEqual([...jobIds].sort());
    expect(full.holders[jobIds[777]]).toEqual(holder(now));

    expect(await ledger.settle("big", jobIds[777], 1, 0.01, 30, now)).toBe("settled");
    const after = await ledger.snapshot("big", now);
    expect(Object.keys(after.holders)).toHaveLength(999);
    expect(after.holders[jobIds[777]]).toBeUndefined();
    expect(after.spentDayUsd).toBe(0.01);
  });

  it("keeps a waiting job's expected run time, and learns how much longer than expected the pool's jobs hold their slots", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const ledger = new TableLedgerStore(table);
    const admittedAt = new Date("2026-12-03T10:00:00Z");
    const entries: WaitingEntry[] = [
      { key: "wait-0995-k9999989999-a", jobId: "a", worstUsd: 0.01, worstSeconds: 600, expectedSeconds: 10 },
      { key: "wait-0995-k9999991999-b", jobId: "b", worstUsd: 0.01, worstSeconds: 600, expectedSeconds: 8 },
      { key: "wait-0995-k9999989999-d", jobId: "d", worstUsd: 0.01, worstSeconds: 600, expectedSeconds: 10 },
      { key: "wait-0995-u-c", jobId: "c", worstUsd: 0.01, worstSeconds: 600 },
    ];
    await Promise.all(entries.map((e) => ledger.addWaiting("batch", e)));
    const line = await ledger.waiting("batch", 10);
    expect(line.map((e) => [e.jobId, e.expectedSeconds])).toEqual([
      ["a", 10],
      ["d", 10],
      ["b", 8],
      ["c", undefined],
    ]);

    const snap = await ledger.snapshot("batch", admittedAt);
    expect(snap.holdOverSeconds).toBeUndefined();
    const held = (e: WaitingEntry): Holder => ({
      ...holder(admittedAt),
      ...(e.expectedSeconds === undefined ? {} : { expectedSeconds: e.expectedSeconds }),
    });
    expect(
      await ledger.admit(
        snap,
        line.map((entry) => ({ entry, holder: held(entry) })),
      ),
    ).toBe(true);
    const after = (s: number) => new Date(admittedAt.getTime() + s * 1000);

    // a held its slot 15 s for 10 expected: 5 s over, the first sample.
    expect(await ledger.settle("batch", "a", 1, 0.001, 15, after(15), true)).toBe("settled");
    expect((await ledger.snapshot("batch", after(15))).holdOverSeconds).toBe(5);
    // c had no expected run time: it teaches nothing.
    await ledger.settle("batch", "c", 1, 0.001, 40, after(40), true);
    expect((await ledger.snapshot("batch", after(40))).holdOverSeconds).toBe(5);
    // d was canceled a second in: its settle is not told to learn (only a succeeded attempt's is), so it teaches nothing.
    await ledger.settle("batch", "d", 1, 0, 1, after(41));
    expect((await ledger.snapshot("batch", after(41))).holdOverSeconds).toBe(5);
    // b held 60 s for 8 expected: 52 s over moves the average a tenth of the way, but by 3 s at most.
    await ledger.settle("batch", "b", 1, 0.001, 60, after(60), true);
    expect((await ledger.snapshot("batch", after(60))).holdOverSeconds).toBe(8);
  });

  it("drops the extra holder properties when a pool shrinks back to a few holders", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const ledger = new TableLedgerStore(table);
    const now = new Date();
    const many = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`job-${i}-${randomBytes(10).toString("hex")}`, holder(now)]));
    expect(await ledger.replaceHolders(await ledger.snapshot("shrinks", now), many)).toBe(true);
    expect(Object.keys(await table.getEntity<Record<string, unknown>>("shrinks", "admission"))).toContain("holders1");

    const few = { only: holder(now) };
    expect(await ledger.replaceHolders(await ledger.snapshot("shrinks", now), few)).toBe(true);
    const entity = await table.getEntity<Record<string, unknown>>("shrinks", "admission");
    expect(Object.keys(entity).filter((k) => k.startsWith("holders"))).toEqual(["holders"]);
    expect((await ledger.snapshot("shrinks", now)).holders).toEqual(few);
  });

  it("reads only the spending windows asked for, and admits from such a snapshot as from a full one", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const ledger = new TableLedgerStore(table);
    const now = new Date();
    expect(await ledger.replaceHolders(await ledger.snapshot("nobudget", now), { first: holder(now) })).toBe(true);
    expect(await ledger.settle("nobudget", "first", 1, 0.02, 10, now)).toBe("settled");
    const reads = vi.spyOn(table, "getEntity");
    const light = await ledger.snapshot("nobudget", now, { day: false, month: true });
    expect(reads.mock.calls.map((c) => c[1])).toEqual(["admission", `month-${now.toISOString().slice(0, 7)}`]);
    reads.mockRestore();
    expect(light).toMatchObject({ spentDayUsd: 0, spentMonthUsd: 0.02 });
    const entry = { key: "wait-5-second", jobId: "second", worstUsd: 0.01 } as WaitingEntry;
    await ledger.addWaiting("nobudget", entry);
    expect(await ledger.admit(light, [{ entry, holder: holder(now) }])).toBe(true);
    expect(Object.keys((await ledger.snapshot("nobudget", now)).holders)).toEqual(["second"]);
  });

  it("settles from the rows it wrote last without reading them, and after another instance's write reads again, keeping the totals exact", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const [mine, theirs] = [new TableLedgerStore(table), new TableLedgerStore(table)];
    const now = new Date();
    const holders = Object.fromEntries(["j1", "j2", "j3", "j4"].map((id) => [id, holder(now)]));
    expect(await mine.replaceHolders(await mine.snapshot("known", now), holders)).toBe(true);
    expect(await mine.settle("known", "j1", 1, 0.01, 10, now)).toBe("settled");
    const reads = vi.spyOn(table, "getEntity");
    expect(await mine.settle("known", "j2", 1, 0.02, 10, now)).toBe("settled");
    expect(reads).not.toHaveBeenCalled();
    // Another instance settles: this one's rows are stale now, its transaction is refused, and it reads again.
    expect(await theirs.settle("known", "j3", 1, 0.04, 10, now)).toBe("settled");
    reads.mockClear();
    expect(await mine.settle("known", "j4", 1, 0.08, 10, now)).toBe("settled");
    expect(reads).toHaveBeenCalled();
    reads.mockRestore();
    // Settling again is recognised from storage, not concluded from what this instance remembers.
    expect(await mine.settle("known", "j4", 1, 0.08, 10, now)).toBe("alreadySettled");
    const snap = await theirs.snapshot("known", now);
    expect(snap.holders).toEqual({});
    expect(snap.spentDayUsd).toBe(0.15);
    expect(Number((await table.getEntity<Record<string, unknown>>("known", `day-${now.toISOString().slice(0, 10)}`)).jobs)).toBe(4);
  });

  it("settles fifty jobs ending at once in a few shared transactions, each once, with exact totals, and knows a repeat", async () => {
    const table = tableClient(inject("storageConnectionString"), unique("ledger"));
    const ledger = new TableLedgerStore(table);
    const now = new Date();
    const ids = Array.from({ length: 50 }, (_, i) => `j${i}`);
    expect(await ledger.replaceHolders(await ledger.snapshot("group", now), Object.fromEntries(ids.map((id) => [id, holder(now)])))).toBe(
      true,
    );
    const transactions = vi.spyOn(table, "submitTransaction");
    // One of them twice, as an at-least-once delivery may ask: the repeat is told it was settled already.
    const results = await Promise.all([
      ...ids.map((id) => ledger.settle("group", id, 1, 0.001, 5, now)),
      ledger.settle("group", "j7", 1, 0.001, 5, now),
    ]);
    expect(results.filter((r) => r === "settled")).toHaveLength(50);
    expect(results.filter((r) => r === "alreadySettled")).toHaveLength(1);
    // One by one they would be 50 transactions at least; grouped, the first settles alone and the rest join at most 32 a time.
    expect(transactions.mock.calls.length).toBeLessThanOrEqual(4);
    transactions.mockRestore();
    const snap = await ledger.snapshot("group", now);
    expect(snap.holders).toEqual({});
    expect(snap.spentDayUsd).toBe(0.05);
    expect(snap.spentMonthUsd).toBe(0.05);
    expect(Number((await table.getEntity<Record<string, unknown>>("group", `day-${now.toISOString().slice(0, 10)}`)).jobs)).toBe(50);
    let rows = 0;
    for await (const row of ledger.costRows("group")) rows += row.costUsd === 0.001 && row.billedSeconds === 5 ? 1 : 0;
    expect(rows).toBe(50);
    await table.deleteTable();
  });
});
