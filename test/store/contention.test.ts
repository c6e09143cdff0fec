/**
 * A write that keeps losing its race, against real Table storage: another writer changes
 * the entity just before each of ours lands, so every ETag-guarded write fails. Each
 * read-modify-write then gives up through the one helper (store/tables.ts) with
 * WriteContention, which says what it was doing, and leaves nothing half-written.
 */
import { randomBytes } from "node:crypto";
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { describe, expect, inject, it } from "vitest";
import { LedgerStore } from "../../src/store/ledgerStore.js";
import { WriteContention, tableClient } from "../../src/store/tables.js";

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

/** A client on a fresh table whose `submitTransaction` always comes second to another writer. */
function alwaysBeatenLedger(): { table: TableClient; rival: TableClient } {
  const name = unique("contention");
  const table = tableClient(inject("storageConnectionString"), name);
  const rival = tableClient(inject("storageConnectionString"), name);
  const submit = table.submitTransaction.bind(table);
  table.submitTransaction = async (actions: TransactionAction[]) => {
    // The rival touches every entity the transaction updates, so their ETags go stale.
    for (const [kind, entity] of actions) {
      if (kind === "update") await rival.updateEntity({ partitionKey: entity.partitionKey, rowKey: entity.rowKey, rival: Date.now() }, "Merge");
    }
    return submit(actions);
  };
  return { table, rival };
}

describe("a write that keeps losing its race", () => {
  it("settling a slot gives up with WriteContention naming the pool and the job, and the slot stays held", async () => {
    const { table } = alwaysBeatenLedger();
    const ledger = new LedgerStore(table);
    const now = new Date();
    const holder = { attempt: 1, reservedUsd: 0.5, day: now.toISOString().slice(0, 10), month: now.toISOString().slice(0, 7), since: now.toISOString() };
    const entry = { key: "wait-x", jobId: "j1", worstUsd: 0.5 };
    await ledger.addWaiting("p", entry);
    // The first admission creates the admission entity, so there is nothing yet for the rival to change.
    expect(await ledger.admit(await ledger.snapshot("p", now), [{ entry, holder }])).toBe(true);

    const settling = ledger.settle("p", "j1", 1, 0.25, 10, now);
    await expect(settling).rejects.toBeInstanceOf(WriteContention);
    await expect(settling).rejects.toThrow("pool p: settling job j1 attempt 1: still losing to concurrent writers after 30 tries");
    const after = await ledger.snapshot("p", now);
    expect(after.holders.j1).toEqual(holder);
    expect(after.spentDayUsd).toBe(0);
    await table.deleteTable();
  });
});
