/**
 * The job index's rows for retention (scheduler/retention.ts), next to its listing rows
 * (`newest` and `oldest`, by creation time). A finished job has one retention row keyed by
 * time, so what is due for deletion is the front of a partition, read without touching a
 * job that is not due:
 *
 * - `finished-<pool>`, keyed by finish time, for jobs the pool's retentionDays applies to:
 *   due once older than now − retentionDays, read at the time of deleting, so a change of
 *   retentionDays applies to jobs already finished;
 * - `expires`, keyed by expiry, for jobs with their own ttlSecondsAfterFinished and for
 *   Rejected jobs without a spec (they may name no configured pool), kept 30 days.
 *
 * Jobs that finished before these rows existed get them from a one-time backfill that walks
 * `oldest` a bounded page per reconciler run (meta/retention-backfill keeps its place).
 */
import type { TableClient } from "@azure/data-tables";
import { FINAL_STATES, type JobRecord, type JobState } from "../model.js";
import { isNotFound, odataString } from "./tables.js";

/** Where a finished job waits to be deleted, and what the row knows of it. */
export interface RetentionRow {
  partition: string;
  rowKey: string;
  jobId: string;
  pool: string;
  createdAt: string;
  /** When it is due, in ms. */
  dueAt: number;
}

/** Jobs that never got a stored spec (Rejected) may name no configured pool: they are kept this long. */
export const REJECTED_RETENTION_SECONDS = 30 * 86_400;
const EXPIRES = "expires";
// Times as 13 digits of ms (and inverted for newest first): good until the year 2286.
const MAX_MS = 9_999_999_999_999;
const pad = (ms: number) => String(Math.max(0, Math.min(MAX_MS, Math.floor(ms)))).padStart(13, "0");
const BACKFILL = { partitionKey: "meta", rowKey: "retention-backfill" };

/** The listing rows' keys of a job. */
export function listingRows(id: string, createdAt: string) {
  const ms = Date.parse(createdAt);
  return [
    { partitionKey: "newest", rowKey: `${pad(MAX_MS - ms)}-${id}` },
    { partitionKey: "oldest", rowKey: `${pad(ms)}-${id}` },
  ];
}

/** The retention row's key of a finished job (none while it is not finished). */
export function retentionRow(job: JobRecord): { partitionKey: string; rowKey: string } | undefined {
  if (!FINAL_STATES.has(job.state) || !job.finishedAt) return undefined;
  const finished = Date.parse(job.finishedAt);
  const ttl = job.spec?.ttlSecondsAfterFinished ?? (job.spec ? undefined : REJECTED_RETENTION_SECONDS);
  if (ttl !== undefined) return { partitionKey: EXPIRES, rowKey: `${pad(finished + ttl * 1000)}-${job.id}` };
  return { partitionKey: `finished-${job.pool}`, rowKey: `${pad(finished)}-${job.id}` };
}

/** The rows due, soonest first, at most `limit`: one page from the front of each partition. */
export async function dueRows(
  index: TableClient,
  cutoffs: ReadonlyMap<string, number>,
  now: number,
  limit: number,
): Promise<RetentionRow[]> {
  const parts = [...cutoffs].map(([pool, cutoff]) => ({ partition: `finished-${pool}`, before: cutoff, keep: now - cutoff }));
  parts.push({ partition: EXPIRES, before: now, keep: 0 });
  const found = await Promise.all(
    parts.map(async (p) => {
      const filter = `PartitionKey eq ${odataString(p.partition)} and RowKey lt ${odataString(pad(p.before))}`;
      const page = await index
        .listEntities<{ jobId: string; pool: string; createdAt: string }>({ queryOptions: { filter } })
        .byPage({ maxPageSize: limit })
        .next();
      return (page.done ? [] : page.value).map((e): RetentionRow => ({
        partition: p.partition,
        rowKey: e.rowKey!,
        jobId: e.jobId,
        pool: e.pool,
        createdAt: e.createdAt,
        dueAt: Number(e.rowKey!.slice(0, 13)) + p.keep,
      }));
    }),
  );
  return found
    .flat()
    .sort((a, b) => a.dueAt - b.dueAt)
    .slice(0, limit);
}

/** Deletes a retention row and, unless `keepListing`, the job's listing rows of that creation time; rows already gone are fine. */
export async function deleteRetentionRows(index: TableClient, row: RetentionRow, keepListing: boolean): Promise<void> {
  const keys = [{ partitionKey: row.partition, rowKey: row.rowKey }, ...(keepListing ? [] : listingRows(row.jobId, row.createdAt))];
  await Promise.all(
    keys.map((k) =>
      index.deleteEntity(k.partitionKey, k.rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      }),
    ),
  );
}

/**
 * One step of the backfill: reads the next `limit` rows of `oldest` created before the
 * backfill began (jobs since then got their rows when they finished) and rewrites the
 * index of those finished (`reindex`). Returns how many rows it read; 0 once done. Two
 * instances at once only write the same rows twice.
 */
export async function backfillRetentionStep(
  index: TableClient,
  limit: number,
  now: Date,
  reindex: (jobId: string) => Promise<void>,
): Promise<number> {
  let meta: { startedAt: string; after: string; done?: boolean };
  try {
    meta = await index.getEntity<{ startedAt: string; after: string; done?: boolean }>(BACKFILL.partitionKey, BACKFILL.rowKey);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    meta = { startedAt: now.toISOString(), after: "" };
    await index.upsertEntity({ ...BACKFILL, ...meta }, "Replace");
  }
  if (meta.done) return 0;
  const filter = `PartitionKey eq 'oldest' and RowKey gt ${odataString(meta.after)} and RowKey lt ${odataString(pad(Date.parse(meta.startedAt)))}`;
  const page = await index
    .listEntities<{ jobId: string; state: JobState }>({ queryOptions: { filter } })
    .byPage({ maxPageSize: limit })
    .next();
  const rows = page.done ? [] : page.value;
  for (const r of rows) if (FINAL_STATES.has(r.state)) await reindex(r.jobId);
  const done = page.done || !page.value.continuationToken;
  await index.upsertEntity({ ...BACKFILL, startedAt: meta.startedAt, after: rows.at(-1)?.rowKey ?? meta.after, done }, "Replace");
  return rows.length;
}
