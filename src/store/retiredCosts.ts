/**
 * Retiring a deleted job's cost rows (retention, see scheduler/retention.ts). The pool's
 * day and month totals, which budgets read, are never touched. What the per-attempt rows
 * added up to is kept per pool and UTC day in `retired-<YYYY-MM-DD>` rows, so GET
 * /api/costs still reports every cent by pool and by day after the jobs are gone.
 *
 * The rows' deletion and the addition to the retired sums are one transaction in the
 * pool's partition, guarded by the sums' ETags and failing if any row is gone: two
 * instances retiring the same job add its cost once (the loser finds the rows gone).
 */
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { roundUsd } from "../pricing.js";
import { ensureTable, isNotFound, odataString, retryOnConflict, statusOf } from "./tables.js";

/** What the retired attempts of one pool and day add up to. */
export interface RetiredSum {
  pool: string;
  day: string;
  costUsd: number;
  billedSeconds: number;
  /** Attempts with a bill, with the bill and the estimate for those same attempts. */
  billedUsd: number;
  billedEstimateUsd: number;
  billedAttempts: number;
  attempts: number;
  /** Jobs with an attempt on that day (a job whose attempts span days counts on each). */
  jobs: number;
}

/**
 * A transaction holds at most 100 actions. A job has at most 1 + 10 retries + 20 platform
 * retries = 31 attempts, so its rows and their days' sums (62 actions) always fit in one.
 */
const MAX_ACTIONS = 100;
const SUMS = ["costUsd", "billedSeconds", "billedUsd", "billedEstimateUsd", "billedAttempts", "attempts", "jobs"] as const;

export type RetireResult = { retired: number } | { held: "billOpen" };

/**
 * Deletes the job's cost rows, adding them to the retired sums. With `holdOpenBills`, a
 * job with a bill still to be read (billOpen) is left as it is: the true-up needs its rows.
 */
export async function retireCostRows(table: TableClient, pool: string, jobId: string, holdOpenBills: boolean): Promise<RetireResult> {
  await ensureTable(table);
  return retryOnConflict<RetireResult>(`pool ${pool}: retiring the cost rows of job ${jobId}`, async () => {
    // Job ids are [a-z0-9] only, so `cost-<id>-` never also matches a longer id.
    const filter = `PartitionKey eq ${odataString(pool)} and RowKey ge ${odataString(`cost-${jobId}-`)} and RowKey lt ${odataString(`cost-${jobId}.`)}`;
    const rows: Record<string, unknown>[] = [];
    for await (const e of table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) rows.push(e);
    if (rows.length === 0) return { done: true, value: { retired: 0 } };
    if (holdOpenBills && rows.some((e) => e.billOpen === true)) return { done: true, value: { held: "billOpen" } };
    if (rows.length * 2 > MAX_ACTIONS)
      throw new Error(`job ${jobId} has ${rows.length} cost rows; retiring them at once takes at most ${MAX_ACTIONS / 2}`);
    const byDay = new Map<string, Omit<RetiredSum, "pool" | "day">>();
    for (const e of rows) {
      const day = String(e.day);
      const s = byDay.get(day) ?? {
        costUsd: 0,
        billedSeconds: 0,
        billedUsd: 0,
        billedEstimateUsd: 0,
        billedAttempts: 0,
        attempts: 0,
        jobs: 1,
      };
      const cost = Number(e.costUsd ?? 0);
      s.costUsd = roundUsd(s.costUsd + cost);
      s.billedSeconds += Number(e.billedSeconds ?? 0);
      s.attempts++;
      if (e.billedUsd !== undefined && e.billedUsd !== null) {
        s.billedUsd = roundUsd(s.billedUsd + Number(e.billedUsd));
        s.billedEstimateUsd = roundUsd(s.billedEstimateUsd + cost);
        s.billedAttempts++;
      }
      byDay.set(day, s);
    }
    // A delete in a transaction is unconditional, but fails (and with it the whole) when the row is gone.
    const actions: TransactionAction[] = rows.map((e) => ["delete", { partitionKey: pool, rowKey: String(e.rowKey) }]);
    for (const [day, add] of byDay) {
      const key = `retired-${day}`;
      const current = await readRow(table, pool, key);
      const next: Record<string, unknown> & { partitionKey: string; rowKey: string } = { partitionKey: pool, rowKey: key };
      for (const f of SUMS) {
        next[f] = f.endsWith("Usd") ? roundUsd(Number(current?.[f] ?? 0) + add[f]) : Number(current?.[f] ?? 0) + add[f];
      }
      actions.push(current ? ["update", next, "Replace", { etag: current.etag as string }] : ["create", next]);
    }
    try {
      await table.submitTransaction(actions);
    } catch (err) {
      const s = statusOf(err);
      // Another instance retired (some of) them, or changed a sum: read again.
      if (s === 412 || s === 409 || s === 404) return { done: false };
      throw err;
    }
    return { done: true, value: { retired: rows.length } };
  });
}

async function readRow(table: TableClient, pool: string, key: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await table.getEntity<Record<string, unknown>>(pool, key);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The retired sums: one pool's, or (pool undefined) every pool's. */
export async function* retiredSums(table: TableClient, pool: string | undefined): AsyncIterable<RetiredSum> {
  await ensureTable(table);
  const filter = `${pool === undefined ? "" : `PartitionKey eq ${odataString(pool)} and `}RowKey ge 'retired-' and RowKey lt 'retired.'`;
  for await (const e of table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    const s = { pool: e.partitionKey!, day: e.rowKey!.slice("retired-".length) } as RetiredSum;
    for (const f of SUMS) s[f] = Number(e[f] ?? 0);
    yield s;
  }
}
