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
});
