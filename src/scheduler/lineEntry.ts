/**
 * A job's entry in its pool's waiting line, built in one place for every path that puts
 * a job there (submission, a retry, released dependencies, array children, the
 * reconciler's requeue) and for the cancel that takes it out, so they all agree on the key.
 *
 * The row key orders the line: priority first, then the pool's `order`, then arrival.
 * - `fifo`: arrival only (the key Burst always used).
 * - `longest-first` / `shortest-first`: by the job's expected run time, its
 *   `expectedSeconds`, else the median its shape learned (the record's `estimate`, fixed at
 *   submission so every path builds the same key). Jobs without either sort after every job with one, in arrival order
 *   among themselves: guessing them long would let an unknown crowd out known long work,
 *   guessing them short would let it jump known short work.
 * The entry also carries the job's worst cases — money and slot time — for admission and
 * EASY backfill (admission.ts, backfill.ts). Those come from the time limit, never from a
 * hint or a learned estimate: an estimate is a typical run, not a bound, and the budget
 * and the backfill guarantee must hold for the run that goes long. The expected run time
 * it carries too is only for ordering: the tail plan (slotPlan.ts).
 */
import type { JobRecord } from "../model.js";
import type { PoolConfig } from "../config.js";
import type { WaitingEntry } from "../store/ledgerStore.js";
import { effectiveLimitSeconds, worstCaseUsd } from "../pricing.js";
import { BACKUP_LAUNCH_DELAY_SECONDS } from "./pump.js";

type Waiter = Pick<JobRecord, "id" | "priority" | "createdAt" | "spec" | "notBefore" | "estimate">;

/** Expected milliseconds fit 10 digits: expectedSeconds is at most 30 days. */
const MS_DIGITS = 10;
const MS_MAX = 10 ** MS_DIGITS - 1;

export function lineKey(job: Waiter, order: PoolConfig["order"]): string {
  const prio = String(1000 - job.priority).padStart(4, "0");
  if (order === "fifo") return `wait-${prio}-${job.createdAt}-${job.id}`;
  const expected = expectedOf(job);
  let part = "u";
  if (expected !== undefined) {
    const ms = Math.min(MS_MAX, Math.round(expected * 1000));
    part = `k${String(order === "longest-first" ? MS_MAX - ms : ms).padStart(MS_DIGITS, "0")}`;
  }
  return `wait-${prio}-${part}-${job.createdAt}-${job.id}`;
}

/** The job's expected run time: its hint, else the median its shape had learned when it was submitted. */
function expectedOf(job: Waiter): number | undefined {
  return job.spec?.expectedSeconds ?? (job.estimate?.source === "learned" ? job.estimate.seconds : undefined);
}

/**
 * The longest an admitted job can hold its slot, as backfill counts it: the launch (the
 * inline one, else the backup launch message's delay), its time limit from the launch on,
 * and the slack for noticing the deadline by polling. Undefined when nothing bounds it.
 */
export function worstHoldSeconds(spec: NonNullable<JobRecord["spec"]>, pool: PoolConfig): number | undefined {
  const limit = effectiveLimitSeconds(spec, pool.prices);
  return limit === undefined ? undefined : BACKUP_LAUNCH_DELAY_SECONDS + limit + pool.enforcementSlackSeconds;
}

export function lineEntry(
  job: Waiter & { spec: NonNullable<JobRecord["spec"]> },
  pool: PoolConfig,
  notBefore = job.notBefore,
): WaitingEntry {
  return {
    key: lineKey(job, pool.order),
    jobId: job.id,
    worstUsd: worstCaseUsd(job.spec, pool.prices, pool.enforcementSlackSeconds) ?? 0,
    worstSeconds: worstHoldSeconds(job.spec, pool),
    expectedSeconds: expectedOf(job),
    notBefore,
  };
}
