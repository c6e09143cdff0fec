/**
 * Job records in Table storage: one entity per job (PartitionKey = job id), the
 * record as JSON split over doc0..docN, and the fields people filter on as columns.
 * Every write is conditional on the ETag read, so concurrent instances never
 * overwrite each other's transitions.
 */
import type { TableClient } from "@azure/data-tables";
import type { JobRecord, JobState } from "../model.js";
import { ensureTable, isConflict, isNotFound, joinDoc, odataString, splitDoc } from "./tables.js";

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

export interface JobStore {
  get(id: string): Promise<Versioned<JobRecord> | undefined>;
  /** Inserts; returns undefined when a job with that id already exists. */
  create(job: JobRecord): Promise<string | undefined>;
  /** Replaces if the ETag is still current; throws StaleWrite otherwise. */
  replace(job: JobRecord, etag: string): Promise<string>;
  list(query: JobQuery, limit: number, continuationToken?: string): Promise<{ jobs: JobRecord[]; continuationToken?: string }>;
  /** Every job, unpaged; for the reconciler. */
  scan(filter?: { states?: JobState[] }): AsyncIterable<JobRecord>;
}

const ROW = "job";

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
  constructor(private readonly table: TableClient) {}

  async get(id: string): Promise<Versioned<JobRecord> | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(id, ROW);
      return { value: JSON.parse(joinDoc(e)) as JobRecord, etag: e.etag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(job: JobRecord): Promise<string | undefined> {
    await ensureTable(this.table);
    try {
      const r = await this.table.createEntity(toEntity(job));
      return r.etag!;
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw err;
    }
  }

  async replace(job: JobRecord, etag: string): Promise<string> {
    try {
      const r = await this.table.updateEntity(toEntity(job), "Replace", { etag });
      return r.etag!;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) throw new StaleWrite(`job ${job.id} changed since it was read`);
      throw err;
    }
  }

  #filter(q: { state?: JobState; states?: JobState[]; pool?: string }): string | undefined {
    const parts = [`RowKey eq '${ROW}'`];
    if (q.state) parts.push(`state eq ${odataString(q.state)}`);
    if (q.states?.length) parts.push(`(${q.states.map((s) => `state eq ${odataString(s)}`).join(" or ")})`);
    if (q.pool) parts.push(`pool eq ${odataString(q.pool)}`);
    return parts.join(" and ");
  }

  async list(query: JobQuery, limit: number, continuationToken?: string) {
    await ensureTable(this.table);
    const [lk, lv] = (query.label ?? "").split(/=(.*)/s);
    // Own keys only: "constructor" or "__proto__" must not match every job through the prototype.
    const matchesLabel = (j: JobRecord) => !query.label || (Object.hasOwn(j.labels, lk!) && (lv === undefined || j.labels[lk!] === lv));
    // Labels are filtered here, so a page may hold fewer than `limit`; the token still moves on.
    const pages = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: this.#filter(query) } })
      .byPage({ maxPageSize: limit, continuationToken });
    const first = await pages.next();
    if (first.done) return { jobs: [] };
    const page = first.value;
    const jobs = page.map((e) => JSON.parse(joinDoc(e)) as JobRecord).filter(matchesLabel);
    return { jobs, continuationToken: page.continuationToken };
  }

  async *scan(filter: { states?: JobState[] } = {}): AsyncIterable<JobRecord> {
    await ensureTable(this.table);
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: this.#filter(filter) } })) {
      yield JSON.parse(joinDoc(e)) as JobRecord;
    }
  }
}

/**
 * Read-modify-write with optimistic concurrency: `change` gets the current record and
 * returns the new one (or undefined to leave it); on a lost race it runs again on the
 * fresh record.
 */
export async function mutateJob(
  store: JobStore,
  id: string,
  change: (job: JobRecord) => JobRecord | undefined,
  tries = 20,
): Promise<{ before: JobRecord; after: JobRecord; changed: boolean } | undefined> {
  for (let i = 0; i < tries; i++) {
    const current = await store.get(id);
    if (!current) return undefined;
    const next = change(current.value);
    if (!next) return { before: current.value, after: current.value, changed: false };
    try {
      await store.replace(next, current.etag);
      return { before: current.value, after: next, changed: true };
    } catch (err) {
      if (!(err instanceof StaleWrite)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * (i + 1)));
    }
  }
  throw new Error(`job ${id}: too many concurrent updates`);
}
