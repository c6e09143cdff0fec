/**
 * Learned run times (durations.ts), in the `<prefix>Durations` table: one partition per
 * pool, one row per shape (RowKey = the shape's digest). Every update is an ETag-guarded
 * read-modify-write, so concurrent finishes of the same shape each add their sample.
 */
import type { TableClient } from "@azure/data-tables";
import { addRun, emptyShape, estimateOf, MAX_SHAPES_PER_POOL, type Estimate, type ShapeDurations } from "../durations.js";
import { ensureTable, isConflict, isNotFound, odataString, retryOnConflict } from "./tables.js";

export interface PoolDurations {
  shapes: number;
  estimatedRuns: number;
  /** Mean over the estimated runs of |estimate − actual| / actual; null before any. */
  meanAbsRelError: number | null;
}

/** What a learning attempt did: added the run, or left it out because the pool already has MAX_SHAPES_PER_POOL shapes. */
export type RecordResult = "recorded" | "poolFull";

export interface DurationStore {
  estimate(pool: string, shape: string): Promise<Estimate | undefined>;
  record(pool: string, shape: string, image: string, seconds: number, estimateSeconds?: number): Promise<RecordResult>;
  summary(pool: string): Promise<PoolDurations>;
}

function parse(e: Record<string, unknown>): ShapeDurations {
  return {
    samples: JSON.parse(String(e.samples ?? "[]")) as number[],
    estimatedRuns: Number(e.estimatedRuns ?? 0),
    absRelErrorSum: Number(e.absRelErrorSum ?? 0),
  };
}

/** How many shapes' rows a store remembers (#known). */
const KNOWN_SHAPES = 1000;

type ShapeRow = Record<string, unknown> & { etag: string };

/**
 * How long an instance uses a pool's shape count before counting again. The count is a
 * query over the pool's rows (up to MAX_SHAPES_PER_POOL of them); run for every new shape, it
 * made a job's storage work grow with the number of shapes seen.
 */
const SHAPE_COUNT_SECONDS = 60;

export class TableDurationStore implements DurationStore {
  /**
   * Each shape's row as this process last read or wrote it (null: it had none). Learning
   * starts from it, since its write is conditional (an update on the ETag, a first row an
   * insert that fails if another instance made one), and a refused write reads again. So a
   * job's estimate at submission and its sample at the end read the row once between them.
   */
  readonly #known = new Map<string, ShapeRow | null>();
  /** Per pool: its shape count when last counted (at, in ms), plus the shapes this instance has made since. */
  readonly #shapeCounts = new Map<string, { n: number; at: number }>();

  constructor(
    private readonly table: TableClient,
    private readonly now: () => number = Date.now,
  ) {}

  #remember(pool: string, shape: string, row: ShapeRow | null | undefined): void {
    const key = `${pool}\u0000${shape}`;
    this.#known.delete(key);
    if (row === undefined) return;
    this.#known.set(key, row);
    if (this.#known.size > KNOWN_SHAPES) this.#known.delete(this.#known.keys().next().value!);
  }

  async #get(pool: string, shape: string, known = false): Promise<ShapeRow | undefined> {
    const key = `${pool}\u0000${shape}`;
    if (known && this.#known.has(key)) return this.#known.get(key) ?? undefined;
    await ensureTable(this.table);
    try {
      const e = (await this.table.getEntity<Record<string, unknown>>(pool, shape)) as ShapeRow;
      this.#remember(pool, shape, e);
      return e;
    } catch (err) {
      if (isNotFound(err)) {
        this.#remember(pool, shape, null);
        return undefined;
      }
      throw err;
    }
  }

  async estimate(pool: string, shape: string): Promise<Estimate | undefined> {
    const e = await this.#get(pool, shape);
    return e ? estimateOf(parse(e)) : undefined;
  }

  async record(pool: string, shape: string, image: string, seconds: number, estimateSeconds?: number): Promise<RecordResult> {
    let first = true;
    return retryOnConflict<RecordResult>(`durations of shape ${shape} in pool ${pool}`, async () => {
      const fromKnown = first;
      first = false;
      const e = await this.#get(pool, shape, fromKnown);
      // The count may be up to SHAPE_COUNT_SECONDS old: shapes other instances made in that time can pass the bound, never more.
      if (!e && (await this.#shapesIn(pool)) >= MAX_SHAPES_PER_POOL) {
        // Not learning is decided on the stored row: another instance may have made this shape's.
        return fromKnown ? { done: false } : { done: true, value: "poolFull" as const };
      }
      const next = addRun(e ? parse(e) : emptyShape(), seconds, estimateSeconds);
      const row = {
        partitionKey: pool,
        rowKey: shape,
        image,
        samples: JSON.stringify(next.samples),
        estimatedRuns: next.estimatedRuns,
        absRelErrorSum: next.absRelErrorSum,
      };
      try {
        const r = e ? await this.table.updateEntity(row, "Replace", { etag: e.etag }) : await this.table.createEntity(row);
        this.#remember(pool, shape, r.etag ? { ...row, etag: r.etag } : undefined);
        const counted = this.#shapeCounts.get(pool);
        if (!e && counted) counted.n++;
      } catch (err) {
        this.#remember(pool, shape, undefined);
        if (isConflict(err)) return { done: false };
        throw err;
      }
      return { done: true, value: "recorded" as const };
    });
  }

  async #shapesIn(pool: string): Promise<number> {
    const counted = this.#shapeCounts.get(pool);
    if (counted && this.now() - counted.at < SHAPE_COUNT_SECONDS * 1000) return counted.n;
    const n = await this.#countShapes(pool);
    this.#shapeCounts.set(pool, { n, at: this.now() });
    return n;
  }

  async #countShapes(pool: string): Promise<number> {
    let n = 0;
    const filter = `PartitionKey eq ${odataString(pool)}`;
    for await (const page of this.table.listEntities({ queryOptions: { filter, select: ["RowKey"] } }).byPage({ maxPageSize: 1000 })) {
      n += page.length;
      if (n >= MAX_SHAPES_PER_POOL) return n;
    }
    return n;
  }

  async summary(pool: string): Promise<PoolDurations> {
    await ensureTable(this.table);
    let shapes = 0,
      estimatedRuns = 0,
      errorSum = 0;
    const filter = `PartitionKey eq ${odataString(pool)}`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter, select: ["estimatedRuns", "absRelErrorSum"] },
    })) {
      shapes++;
      estimatedRuns += Number(e.estimatedRuns ?? 0);
      errorSum += Number(e.absRelErrorSum ?? 0);
    }
    return { shapes, estimatedRuns, meanAbsRelError: estimatedRuns ? Math.round((errorSum / estimatedRuns) * 1000) / 1000 : null };
  }
}
