/**
 * Retention: deletes finished jobs once their pool's `retentionDays` (or their own
 * `ttlSecondsAfterFinished`) have passed since they finished — the record, its listing
 * index rows, every log segment of every attempt, its per-attempt cost rows, and the
 * GitHub claim that launched it. The pool's day and month totals stay (budgets read
 * them), and the cost rows' sums are kept per day (store/retiredCosts.ts), so reports
 * still add up.
 *
 * Finding what is due reads no job that is not: each finished job has a retention row
 * keyed by time (jobStore.ts retentionRow), so what is due is the front of one partition
 * per pool plus the `expires` partition. The walk by creation time (`oldest`) would have
 * to step over every job still running or still kept, on every run.
 *
 * Jobs that finished before retention rows existed get theirs from a backfill that walks
 * the creation-time index a bounded page per run (store/retentionIndex.ts).
 *
 * Bounded: at most `limit` jobs per run, soonest due first; the rest wait for the next.
 * Crash-safe and resumable: the retention row that found a job is deleted last, so a run
 * that stopped half-way is finished by the next one, which deletes what is left (each
 * step is fine with its thing already gone). Safe with any number of reconcilers: the
 * record's deletion is ETag-guarded and counted only by the instance that made it; the
 * cost rows leave in one ETag-guarded transaction with their sums.
 */
import pLimit from "p-limit";
import { deleteFinishedJob, isFinal } from "../jobState.js";
import { errorMessage } from "../errors.js";
import { retentionRow, type RetentionRow } from "../store/jobStore.js";
import type { Deps } from "./deps.js";

/** Jobs deleted per reconciler run at most. */
export const RETENTION_BATCH = 500;

export interface RetentionReport {
  /** Jobs whose record this instance deleted (with their logs, cost rows and claims). */
  deleted: number;
  /** Jobs due but kept until their bill is final (the true-up still needs their cost rows). */
  held: number;
  errors: number;
}

export async function deleteExpiredJobs(deps: Deps, options: { limit?: number } = {}): Promise<RetentionReport> {
  const report: RetentionReport = { deleted: 0, held: 0, errors: 0 };
  const batch = options.limit ?? RETENTION_BATCH;
  if (batch <= 0) return report;
  const now = deps.clock.now().getTime();
  const cutoffs = new Map([...deps.config.pools.values()].map((p) => [p.name, now - p.retentionDays * 86_400_000]));
  // Jobs that finished before retention rows existed get theirs, a bounded page a run, until done.
  const backfilled = await deps.jobs.backfillRetention(batch, deps.clock.now());
  if (backfilled > 0) deps.log.info(`retention: indexed ${backfilled} older jobs for retention`);
  const due = await deps.jobs.due(cutoffs, now, batch);
  const limit = pLimit(8);
  await Promise.all(
    due.map((row) =>
      limit(async () => {
        try {
          const outcome = await deleteOne(deps, row);
          if (outcome === "deleted") report.deleted++;
          if (outcome === "held") report.held++;
        } catch (err) {
          report.errors++;
          deps.log.warn(`retention: job ${row.jobId}: ${errorMessage(err)}`);
        }
      }),
    ),
  );
  return report;
}

async function deleteOne(deps: Deps, row: RetentionRow): Promise<"deleted" | "held" | "gone" | "stale"> {
  const current = await deps.jobs.get(row.jobId);
  if (current) {
    const job = current.value;
    const own = retentionRow(job);
    if (!isFinal(job.state) || own?.partitionKey !== row.partition || own.rowKey !== row.rowKey) {
      // A row the job no longer has (a job made anew under the same idempotency key): only the row goes.
      await deps.jobs.unindex(row, job.createdAt === row.createdAt);
      return "stale";
    }
    const costs = await deps.ledger.retireCosts(job.pool, job.id, deps.config.bills.enabled);
    if ("held" in costs) return "held";
    await deps.logs.deleteJob(job.id);
    const workflowJobId = job.source?.workflowJobId;
    if (typeof workflowJobId === "number") await deps.claims.retire(workflowJobId, job.id);
    const deleted = await deleteFinishedJob(deps, job.id, current.etag, job);
    if (!deleted) {
      // Changed since read (a late bill recorded on it) or deleted by another instance: the next run looks again.
      if (await deps.jobs.get(job.id)) return "stale";
    }
    await deps.jobs.unindex(row);
    return deleted ? "deleted" : "gone";
  }
  // The record is gone: a run stopped after deleting it, or another instance is at it. Finish what may be left.
  await deps.ledger.retireCosts(row.pool, row.jobId, false);
  await deps.logs.deleteJob(row.jobId);
  await deps.jobs.unindex(row);
  return "gone";
}
