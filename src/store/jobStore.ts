/**
 * Job records in Table storage: one entity per job (PartitionKey = job id), the
 * record as JSON split over doc0..docN, and the fields people filter on as columns.
 * Every write is conditional on the ETag read, so concurrent instances never
 * overwrite each other's transitions.
 *
 * Lists come from an index table, since Table storage returns rows only in key order
 * and job ids are not (idempotent jobs hash their key): each job has a row in partition
 * `newest` keyed by inverted creation time, and one in `oldest` keyed by creation time,
 * holding its pool and state. A listing reads a page of index rows and then the records
 * themselves, so the records stay the truth; the index is rewritten when the job's
 * indexed state changes (indexedState), and what a crash or a reordered write leaves stale
 * is repaired by the next listing that sees it and by the reconciler (reindexActive).
 *
 * A finished job also has a retention row (see retentionRow), so the reconciler finds what
 * is due for deletion by reading from the front of a partition instead of every job.
 */
import type { TableClient } from "@azure/data-tables";
import pLimit from "p-limit";
import { ACTIVE_STATES, type JobRecord, type JobState } from "../model.js";
import { ensureTable, isConflict, isNotFound, joinDoc, odataString, splitDoc } from "./tables.js";
import { backfillRetentionStep, deleteRetentionRows, dueRows, listingRows, retentionRow, type RetentionRow } from "./retentionIndex.js";

export { retentionRow, type RetentionRow };

export interface Versioned<T> {
  value: T;
  etag: string;
}

export class StaleWrite extends Error {
  override name = "StaleWrite";
}

export interface JobQuery {
  state?: JobState;
  pool?: string;
  /** "key=value" or "key" */
  label?: string;
}

export const JOB_ORDERS = ["newest", "oldest"] as const;
export type JobOrder = (typeof JOB_ORDERS)[number];

export interface JobStore {
  get(id: string): Promise<Versioned<JobRecord> | undefined>;
  /**
   * The version of the job this process last read or wrote, if it still remembers it: a
   * starting point for a guarded change (mutateJob), never an answer on its own.
   */
  recent?(id: string): Versioned<JobRecord> | undefined;
  /**
   * Inserts; returns undefined when a job with that id already exists. `beside`, if given,
   * runs once the record is in, alongside the index writes (a submission puts the job in
   * its pool's line meanwhile); create resolves when both are done, and rejects with its error.
   */
  create(job: JobRecord, beside?: () => Promise<void>): Promise<string | undefined>;
  /** Replaces if the ETag is still current; throws StaleWrite otherwise. `before` is the record replaced, when known. */
  replace(job: JobRecord, etag: string, before?: JobRecord): Promise<string>;
  /** One page of jobs in creation order; a page may hold fewer than `limit` (filters apply to the records) while the token goes on. */
  list(query: JobQuery, limit: number, continuationToken?: string, order?: JobOrder): Promise<{ jobs: JobRecord[]; continuationToken?: string }>;
  /** Every job, unpaged; for the reconciler. */
  scan(filter?: { states?: JobState[] }): AsyncIterable<JobRecord>;
  /**
   * Makes the index agree with the records for every job not yet final (given: the
   * reconciler's scan of them), and indexes jobs stored before the index existed, once.
   * Returns how many index rows it rewrote.
   */
  reindexActive(active: Map<string, JobState>, scanStartedAt?: Date): Promise<number>;
  /**
   * The retention rows due, soonest first, at most `limit`: of each pool in `cutoffs`,
   * those that finished before its cutoff (ms); of jobs with their own time to live, those
   * whose expiry is before `now` (ms).
   */
  due(cutoffs: ReadonlyMap<string, number>, now: number, limit: number): Promise<RetentionRow[]>;
  /** Deletes a finished job's record if the ETag is still current; false when it changed or is gone. jobState.ts's to call. */
  remove(id: string, etag: string): Promise<boolean>;
  /** Deletes a retention row and, unless `keepListing`, the job's listing rows of the same creation time; rows already gone are fine. */
  unindex(row: RetentionRow, keepListing?: boolean): Promise<void>;
  /** Gives jobs that finished before retention existed their retention rows, `limit` a call; returns how many it read (0: done). */
  backfillRetention(limit: number, now: Date): Promise<number>;
}

const ROW = "job";
/** How many jobs' last versions a store remembers (recent): a pool's worth of running jobs, a few MB. */
const RECENT_JOBS = 1000;

/**
 * The state an index row holds: the job's, with the states a job passes through in a
 * second or two folded into their neighbours (Admitted and Launching into Waiting,
 * Finishing into Running). Rewriting the two listing rows on each of those moves was six
 * of a job's Table writes, for states a listing almost never catches a job in; a listing
 * asks the index for the folded state and keeps the records whose own state matches.
 */
export function indexedState(state: JobState): JobState {
  return state === "Admitted" || state === "Launching" ? "Waiting" : state === "Finishing" ? "Running" : state;
}
const BACKFILL = { partitionKey: "meta", rowKey: "backfilled" };

function indexRows(job: JobRecord) {
  const columns = { jobId: job.id, pool: job.pool, state: indexedState(job.state), createdAt: job.createdAt };
  const retention = retentionRow(job);
  return [...listingRows(job.id, job.createdAt), ...(retention ? [retention] : [])].map((k) => ({ ...k, ...columns }));
}

function toEntity(job: JobRecord) {
  return {
    partitionKey: job.id,
    rowKey: ROW,
    state: job.state,
    pool: job.pool,
    createdAt: job.createdAt,
    labels: JSON.stringify(job.labels ?? {}),
    ...splitDoc(JSON.stringify(job)),
  };
}

export class TableJobStore implements JobStore {
  private readonly recentVersions = new Map<string, Versioned<JobRecord>>();

  constructor(
    private readonly table: TableClient,
    private readonly index: TableClient,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
  ) {}

  // Copies in and out: a caller that changes the record it holds must not change what is remembered.
  recent(id: string): Versioned<JobRecord> | undefined {
    const v = this.recentVersions.get(id);
    return v && { value: structuredClone(v.value), etag: v.etag };
  }

  private remember(id: string, version: Versioned<JobRecord> | undefined): void {
    this.recentVersions.delete(id);
    if (!version) return;
    this.recentVersions.set(id, { value: structuredClone(version.value), etag: version.etag });
    if (this.recentVersions.size > RECENT_JOBS) this.recentVersions.delete(this.recentVersions.keys().next().value!);
  }

  async get(id: string): Promise<Versioned<JobRecord> | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(id, ROW);
      const got = { value: JSON.parse(joinDoc(e)) as JobRecord, etag: e.etag };
      this.remember(id, got);
      return got;
    } catch (err) {
      if (isNotFound(err)) {
        this.remember(id, undefined);
        return undefined;
      }
      throw err;
    }
  }

  async create(job: JobRecord, beside?: () => Promise<void>): Promise<string | undefined> {
    await ensureTable(this.table);
    let r;
    try {
      r = await this.table.createEntity(toEntity(job));
    } catch (err) {
      if (!isConflict(err)) throw err;
      // A repeated submission: the job's index rows may be what its first try never wrote.
      const existing = await this.get(job.id);
      if (existing) await this.#index(existing.value);
      return undefined;
    }
    this.remember(job.id, r.etag ? { value: job, etag: r.etag } : undefined);
    // #index never rejects (it warns), so a failure of `beside` is the one create answers with.
    await Promise.all([this.#index(job), beside?.()]);
    return r.etag!;
  }

  async replace(job: JobRecord, etag: string, before?: JobRecord): Promise<string> {
    let r;
    try {
      r = await this.table.updateEntity(toEntity(job), "Replace", { etag });
    } catch (err) {
      this.remember(job.id, undefined);
      if (isConflict(err) || isNotFound(err)) throw new StaleWrite(`job ${job.id} changed since it was read`);
      throw err;
    }
    this.remember(job.id, r.etag ? { value: job, etag: r.etag } : undefined);
    if (!before || indexedState(before.state) !== indexedState(job.state)) await this.#index(job);
    return r.etag!;
  }

  /**
   * Writes the job's index rows. The record is written and stays the truth, so a failure
   * here is only warned about: listings check the records and the reconciler repairs.
   */
  async #index(job: JobRecord): Promise<void> {
    try {
      await ensureTable(this.index);
      await Promise.all(indexRows(job).map((row) => this.index.upsertEntity(row, "Replace")));
    } catch (err) {
      this.warn(`jobs: could not index job ${job.id} (${job.state}); the reconciler repairs it: ${(err as Error).message}`);
    }
  }

  #filter(q: { state?: JobState; states?: JobState[]; pool?: string }, partition?: string): string {
    const parts = [partition ? `PartitionKey eq ${odataString(partition)}` : `RowKey eq '${ROW}'`];
    // The index holds folded states (indexedState); the job table the real ones.
    const fold = (s: JobState) => (partition ? indexedState(s) : s);
    if (q.state) parts.push(`state eq ${odataString(fold(q.state))}`);
    if (q.states?.length) parts.push(`(${[...new Set(q.states.map(fold))].map((s) => `state eq ${odataString(s)}`).join(" or ")})`);
    if (q.pool) parts.push(`pool eq ${odataString(q.pool)}`);
    return parts.join(" and ");
  }

  async list(query: JobQuery, limit: number, continuationToken?: string, order: JobOrder = "newest") {
    await ensureTable(this.index);
    const [lk, lv] = (query.label ?? "").split(/=(.*)/s);
    // Own keys only: "constructor" or "__proto__" must not match every job through the prototype.
    const matchesLabel = (j: JobRecord) => !query.label || (Object.hasOwn(j.labels, lk!) && (lv === undefined || j.labels[lk!] === lv));
    const pages = this.index.listEntities<{ jobId: string; state: JobState }>({ queryOptions: { filter: this.#filter(query, order) } })
      .byPage({ maxPageSize: limit, continuationToken });
    const first = await pages.next();
    if (first.done) return { jobs: [] };
    const page = first.value;
    const read = pLimit(16);
    const records = await Promise.all(page.map((row) => read(async () => ({ row, job: (await this.get(row.jobId))?.value }))));
    // The record decides: an index row a crash or a reordered write left stale is mended here.
    const stale = records.filter((r) => r.job && indexedState(r.job.state) !== r.row.state).map((r) => r.job!);
    await Promise.all(stale.map((j) => this.#index(j)));
    const jobs = records.map((r) => r.job).filter((j): j is JobRecord => j !== undefined && (!query.state || j.state === query.state) && matchesLabel(j));
    return { jobs, continuationToken: page.continuationToken };
  }

  async *scan(filter: { states?: JobState[] } = {}): AsyncIterable<JobRecord> {
    await ensureTable(this.table);
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: this.#filter(filter) } })) {
      yield JSON.parse(joinDoc(e)) as JobRecord;
    }
  }

  async due(cutoffs: ReadonlyMap<string, number>, now: number, limit: number): Promise<RetentionRow[]> {
    await ensureTable(this.index);
    return dueRows(this.index, cutoffs, now, limit);
  }

  async remove(id: string, etag: string): Promise<boolean> {
    this.remember(id, undefined);
    try {
      await this.table.deleteEntity(id, ROW, { etag });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  async unindex(row: RetentionRow, keepListing = false): Promise<void> {
    await deleteRetentionRows(this.index, row, keepListing);
  }

  async backfillRetention(limit: number, now: Date): Promise<number> {
    await ensureTable(this.index);
    return backfillRetentionStep(this.index, limit, now, async (id) => {
      const job = (await this.get(id))?.value;
      if (job) await this.#index(job);
    });
  }

  async reindexActive(active: Map<string, JobState>, scanStartedAt?: Date): Promise<number> {
    await ensureTable(this.index);
    let rewritten = 0;
    const reindex = async (id: string) => {
      const job = (await this.get(id))?.value;
      if (job) { await this.#index(job); rewritten++; }
    };
    // Jobs stored before there was an index: every one, once.
    const backfilled = await this.index.getEntity(BACKFILL.partitionKey, BACKFILL.rowKey).then(() => true, (err) => { if (isNotFound(err)) return false; throw err; });
    if (!backfilled) {
      for await (const job of this.scan()) { await this.#index(job); rewritten++; }
      await this.index.upsertEntity({ ...BACKFILL, at: new Date().toISOString() }, "Replace");
      return rewritten;
    }
    const unseen = new Map(active);
    const rows = this.index.listEntities<{ jobId: string; state: JobState; createdAt: string }>({ queryOptions: { filter: this.#filter({ states: [...ACTIVE_STATES] }, "newest") } });
    for await (const row of rows) {
      // A job made since the scan began is not in `active`, and was indexed when it was made.
      if (scanStartedAt && !active.has(row.jobId) && Date.parse(row.createdAt) >= scanStartedAt.getTime()) continue;
      const state = unseen.get(row.jobId);
      if (state && indexedState(state) === row.state) unseen.delete(row.jobId);
      else await reindex(row.jobId);
    }
    for (const id of unseen.keys()) await reindex(id);
    return rewritten;
  }
}

/**
 * Read-modify-write with optimistic concurrency: `change` gets the current record and
 * returns the new one (or undefined to leave it); on a lost race it runs again on the
 * fresh record. Without `known`, the first try starts from the version this process last
 * read or wrote (the store's `recent`), which the ETag checks like any read; a change
 * that decides to write nothing from it is decided again on a fresh read, since no ETag
 * would catch a stale "nothing to do".
 */
export async function mutateJob(
  store: JobStore,
  id: string,
  change: (job: JobRecord) => JobRecord | undefined,
  tries = 20,
  /** The record as the caller just read it: the first try starts from it instead of reading again (a stale one only costs a retry). */
  known?: Versioned<JobRecord>,
): Promise<{ before: JobRecord; after: JobRecord; changed: boolean } | undefined> {
  for (let i = 0; i < tries; i++) {
    const remembered = i === 0 && !known ? store.recent?.(id) : undefined;
    let current = i === 0 && known ? known : (remembered ?? (await store.get(id)));
    if (!current) return undefined;
    let next = change(current.value);
    if (!next && remembered) {
      current = await store.get(id);
      if (!current) return undefined;
      next = change(current.value);
    }
    if (!next) return { before: current.value, after: current.value, changed: false };
    try {
      await store.replace(next, current.etag, current.value);
      return { before: current.value, after: next, changed: true };
    } catch (err) {
      if (!(err instanceof StaleWrite)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * (i + 1)));
    }
  }
  throw new Error(`job ${id}: too many concurrent updates`);
}
