/**
 * The pool ledger: one Table partition per pool holding the admission entity (slot
 * holders and their reservations), spent totals per UTC day and month, the waiting
 * line, and one cost row per settled attempt. Keeping them in one partition lets
 * admission and settlement be single atomic transactions guarded by the admission
 * entity's ETag, so any number of instances can admit and settle at once.
 */
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { reservedIn, windowsOf, type Holder, type Candidate } from "../admission.js";
import { roundUsd } from "../pricing.js";
import { retireCostRows, retiredSums, type RetiredSum, type RetireResult } from "./retiredCosts.js";
import { ensureTable, gatherString, isConflict, isNotFound, odataString, retryOnConflict, spreadString, statusOf } from "./tables.js";

const ADMISSION = "admission";
const BILL_CHECK = "bill-check";

/**
 * A pool's ledger as read: its slot holders and what today's and this month's windows
 * have spent. What a conditional write needs (the ETag, the rows) stays inside the store:
 * callers hand the snapshot back to admit or replaceHolders, which succeed only if the
 * ledger has not changed since.
 */
export interface LedgerSnapshot {
  readonly pool: string;
  readonly holders: Record<string, Holder>;
  readonly day: string;
  readonly month: string;
  readonly spentDayUsd: number;
  readonly spentMonthUsd: number;
  /**
   * How much longer than expected the pool's jobs held their slots, seconds, averaged over
   * the recent ones (each admission to its settle, less its expected run time); undefined
   * until a job with an expected run time has been settled. The tail plan adds it to each
   * expected run time (slotPlan.ts).
   */
  readonly holdOverSeconds?: number;
}

type Row = { e: Record<string, unknown>; etag: string };

/** The pool ledger, as the scheduler and the API use it. */
export interface LedgerStore {
  /**
   * The admission entity and today's spending. `spent` says which windows' totals to read
   * (both by default); one left out reads as $0, for a caller whose pool has no budget there.
   * `known`: the rows as this process last read or wrote them, where it has them, for a
   * caller that concludes nothing from the snapshot without an ETag-guarded write.
   */
  snapshot(pool: string, now: Date, spent?: { day: boolean; month: boolean }, known?: boolean): Promise<LedgerSnapshot>;
  /** The first `limit` entries of the waiting line, in admission order. */
  waiting(pool: string, limit: number): Promise<WaitingEntry[]>;
  /** The line's length, counted up to `upTo`. */
  countWaiting(pool: string, upTo: number): Promise<number>;
  addWaiting(pool: string, entry: WaitingEntry): Promise<void>;
  /** True when this call removed it. */
  removeWaiting(pool: string, key: string): Promise<boolean>;
  /** Gives the candidates slots, all or nothing; false when the ledger changed since the snapshot. */
  admit(snapshot: LedgerSnapshot, admitted: { entry: WaitingEntry; holder: Holder }[]): Promise<boolean>;
  /**
   * Frees a job's slot and settles its reservation to the cost; harmless to repeat. With
   * `learnHoldOver`, the slot's hold also moves the pool's hold-over (holdOverSeconds): only
   * for an attempt that succeeded, whose run is what its expected run time describes.
   */
  settle(pool: string, jobId: string, attempt: number, costUsd: number, billedSeconds: number, now: Date, learnHoldOver?: boolean): Promise<SettleResult>;
  /** Replaces the holders wholesale (reconciler repair); false when the ledger changed since the snapshot. */
  replaceHolders(snapshot: LedgerSnapshot, holders: Record<string, Holder>): Promise<boolean>;
  costRows(pool: string | undefined, options?: { openBillsOnly?: boolean }): AsyncIterable<CostRow>;
  recordBill(pool: string, jobId: string, attempt: number, billedUsd: number, final: boolean): Promise<CostRow | undefined>;
  claimBillCheck(pool: string, now: Date, everySeconds: number): Promise<boolean>;
  /**
   * Claims a pool-level event (its own row, `key`), by a conditional write: true for the one
   * caller, across instances, that is to send it. A claim never marked sent (its sender
   * crashed in between) may be claimed again once `staleSeconds` old.
   */
  claimEvent(pool: string, key: string, now: Date, staleSeconds: number): Promise<boolean>;
  /** Marks a claimed event sent, so it is never claimed again. */
  eventSent(pool: string, key: string): Promise<void>;
  totals(pool: string | undefined): AsyncIterable<{ pool: string; window: string; spentUsd: number; jobs: number }>;
  /** Deletes a job's cost rows, keeping what they add up to per day (retention); see retiredCosts.ts. */
  retireCosts(pool: string, jobId: string, holdOpenBills: boolean): Promise<RetireResult>;
  /** What the cost rows of deleted jobs added up to, per pool and day. */
  retired(pool: string | undefined): AsyncIterable<RetiredSum>;
}

export interface WaitingEntry extends Candidate {}

export interface CostRow {
  jobId: string;
  attempt: number;
  pool: string;
  /** Burst's estimate (an upper bound on ACI's charge). */
  costUsd: number;
  billedSeconds: number;
  day: string;
  month: string;
  settledAt: string;
  /** What Cost Management reports, once it has. */
  billedUsd?: number;
  /** The bill will not be read again. */
  billFinal?: boolean;
  /** What the day and month totals hold for this attempt: the larger of the estimate and the bill. */
  countedUsd: number;
}

export type SettleResult = "settled" | "alreadySettled" | "notHolder";

/**
 * Settles in one transaction at most: its 100 operations hold the admission entity, a cost
 * row per settle and the day and month totals of each holder's windows (two per settle
 * at worst).
 */
const SETTLES_PER_TRANSACTION = 32;

/** Each settle's weight in the pool's hold-over average: the last ten or so jobs count most. */
const HOLD_OVER_WEIGHT = 0.1;
/** The most one settle moves the average by, seconds: a job whose hint was far off (an hour's run expected in a minute) is one outlier, not the pool's new hold-over. */
const HOLD_OVER_MAX_STEP = 3;

/**
 * The pool's hold-over once this holder is settled: how much longer than its expected run
 * time it held its slot (admission to settle) moves the running average. A holder without
 * an expected run time, or with a settle time before its admission (clock skew between
 * instances), teaches nothing.
 */
function holdOverAfter(before: number | undefined, holder: Holder, settle: { now: Date }): number | undefined {
  if (holder.expectedSeconds === undefined) return before;
  const held = (settle.now.getTime() - Date.parse(holder.since)) / 1000;
  if (!Number.isFinite(held) || held < 0) return before;
  const sample = held - holder.expectedSeconds;
  // The first sample starts the average no lower than zero: a hint far longer than the run would start it far below.
  const step = HOLD_OVER_WEIGHT * (sample - (before ?? 0));
  const next = before === undefined ? Math.max(0, sample) : before + Math.max(-HOLD_OVER_MAX_STEP, Math.min(HOLD_OVER_MAX_STEP, step));
  return Math.round(next * 1000) / 1000;
}

function numberOrNot(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : Number(v);
}

interface PendingSettle {
  jobId: string;
  attempt: number;
  costUsd: number;
  billedSeconds: number;
  now: Date;
  learnHoldOver: boolean;
  resolve(r: SettleResult): void;
  reject(err: unknown): void;
}

interface SettleQueue {
  pending: PendingSettle[];
  running: boolean;
}

export class TableLedgerStore implements LedgerStore {
  /** Per snapshot: the admission entity's ETag and the window rows as read (undefined: absent), so settling in the same windows need not read them again. */
  readonly #read = new WeakMap<LedgerSnapshot, { etag?: string; windowRows: Map<string, Row | undefined> }>();

  /**
   * The admission entity and the day and month totals as this process last read or wrote
   * them (every write goes through #submit, which keeps this up to date). A settle starts
   * from them: its transaction is conditional on the ETag of each, so a version another
   * instance made stale is refused and the settle reads again. The other readers read.
   */
  readonly #known = new Map<string, Row>();

  /** Per pool, the settles waiting for the transaction under way to end (settle). */
  readonly #settling = new Map<string, SettleQueue>();

  constructor(private readonly table: TableClient) {}

  async #row(pool: string, rowKey: string, known = false): Promise<Row | undefined> {
    const k = knownKey(pool, rowKey);
    if (known && this.#known.has(k)) return this.#known.get(k);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(pool, rowKey);
      const row = { e, etag: e.etag };
      if (tracked(rowKey)) this.#known.set(k, row);
      return row;
    } catch (err) {
      if (isNotFound(err)) {
        this.#known.delete(k);
        return undefined;
      }
      throw err;
    }
  }

  async snapshot(pool: string, now: Date, spent = { day: true, month: true }, known = false): Promise<LedgerSnapshot> {
    await ensureTable(this.table);
    const { day, month } = windowsOf(now);
    const [adm, d, m] = await Promise.all([
      this.#row(pool, ADMISSION, known),
      spent.day ? this.#row(pool, `day-${day}`, known) : undefined,
      spent.month ? this.#row(pool, `month-${month}`, known) : undefined,
    ]);
    const snap: LedgerSnapshot = {
      pool,
      // A Table string property holds about 200 holders; a larger pool's spread over more (spreadString).
      holders: JSON.parse(gatherString(adm?.e ?? {}, "holders") ?? "{}") as Record<string, Holder>,
      day,
      month,
      spentDayUsd: Number(d?.e.spentUsd ?? 0),
      spentMonthUsd: Number(m?.e.spentUsd ?? 0),
      ...(adm?.e.holdOverSeconds === undefined ? {} : { holdOverSeconds: Number(adm.e.holdOverSeconds) }),
    };
    const windowRows = new Map<string, Row | undefined>();
    if (spent.day) windowRows.set(`day-${day}`, d);
    if (spent.month) windowRows.set(`month-${month}`, m);
    this.#read.set(snap, { etag: adm?.etag, windowRows });
    return snap;
  }

  #readOf(snap: LedgerSnapshot) {
    const r = this.#read.get(snap);
    if (!r) throw new Error(`pool ${snap.pool}: a ledger snapshot must come from this store's snapshot()`);
    return r;
  }

  /** The first `limit` entries of the waiting line, in admission order. */
  async waiting(pool: string, limit: number): Promise<WaitingEntry[]> {
    await ensureTable(this.table);
    const filter = `PartitionKey eq ${odataString(pool)} and RowKey ge 'wait-' and RowKey lt 'wait.'`;
    const pages = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: limit });
    const out: WaitingEntry[] = [];
    for await (const page of pages) {
      for (const e of page) {
        out.push({ key: e.rowKey!, jobId: String(e.jobId), worstUsd: Number(e.worstUsd ?? 0), worstSeconds: numberOrNot(e.worstSeconds), expectedSeconds: numberOrNot(e.expectedSeconds), notBefore: (e.notBefore as string) || undefined });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** How many wait in the line, counting no further than `upTo`; reads only the row keys. */
  async countWaiting(pool: string, upTo: number): Promise<number> {
    await ensureTable(this.table);
    const filter = `PartitionKey eq ${odataString(pool)} and RowKey ge 'wait-' and RowKey lt 'wait.'`;
    let n = 0;
    for await (const page of this.table.listEntities({ queryOptions: { filter, select: ["RowKey"] } }).byPage({ maxPageSize: 1000 })) {
      n += page.length;
      if (n >= upTo) return upTo;
    }
    return n;
  }

  /** Adds a job to the waiting line; an entry already there is left as it is. */
  async addWaiting(pool: string, entry: WaitingEntry): Promise<void> {
    await ensureTable(this.table);
    try {
      await this.table.createEntity({
        partitionKey: pool,
        rowKey: entry.key,
        jobId: entry.jobId,
        worstUsd: entry.worstUsd,
        notBefore: entry.notBefore ?? "",
        ...(entry.worstSeconds === undefined ? {} : { worstSeconds: entry.worstSeconds }),
        ...(entry.expectedSeconds === undefined ? {} : { expectedSeconds: entry.expectedSeconds }),
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** Takes a job out of the waiting line; false when it was not there (already admitted or removed). */
  async removeWaiting(pool: string, key: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(pool, key);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Gives the candidates slots: adds them as holders and removes their waiting entries,
   * in one transaction conditional on the snapshot's ETag. False when another instance
   * changed the ledger first (read again and decide again).
   */
  async admit(snapshot: LedgerSnapshot, admitted: { entry: WaitingEntry; holder: Holder }[]): Promise<boolean> {
    const holders = { ...snapshot.holders };
    for (const a of admitted) holders[a.entry.jobId] = a.holder;
    const actions: TransactionAction[] = [this.#admissionWrite(snapshot, holders)];
    for (const a of admitted) actions.push(["delete", { partitionKey: snapshot.pool, rowKey: a.entry.key }]);
    return this.#submit(actions);
  }

  /**
   * Releases a job's slot and settles its reservation to the actual cost: removes the
   * holder, adds the cost to its day and month totals, and writes the attempt's cost
   * row — all or nothing. Running it twice is harmless.
   *
   * Settles of one pool in one process are committed together: every one asked for while
   * a transaction is under way joins the next. Jobs ending side by side all write the
   * admission entity, so settled one by one they lose to each other's ETag and read the
   * ledger again for each loss (about six tries a job when 50 short jobs end at once);
   * together they cost one transaction, and a loss is one group's retry.
   */
  settle(pool: string, jobId: string, attempt: number, costUsd: number, billedSeconds: number, now: Date, learnHoldOver = false): Promise<SettleResult> {
    let group = this.#settling.get(pool);
    if (!group) this.#settling.set(pool, (group = { pending: [], running: false }));
    const g = group;
    return new Promise<SettleResult>((resolve, reject) => {
      g.pending.push({ jobId, attempt, costUsd, billedSeconds, now, learnHoldOver, resolve, reject });
      if (!g.running) void this.#drainSettles(pool, g);
    });
  }

  async #drainSettles(pool: string, g: SettleQueue): Promise<void> {
    g.running = true;
    try {
      await ensureTable(this.table);
      while (g.pending.length > 0) {
        // A repeat of a settle already in this group waits for the next, where it finds the cost row.
        const batch: PendingSettle[] = [];
        const rest: PendingSettle[] = [];
        for (const p of g.pending) (batch.length < SETTLES_PER_TRANSACTION && !batch.some((b) => b.jobId === p.jobId) ? batch : rest).push(p);
        g.pending = rest;
        try {
          const results = await this.#settleGroup(pool, batch);
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } catch (err) {
      for (const p of g.pending.splice(0)) p.reject(err);
    } finally {
      g.running = false;
    }
  }

  async #settleGroup(pool: string, group: PendingSettle[]): Promise<SettleResult[]> {
    const now = new Date(Math.max(...group.map((p) => p.now.getTime())));
    let first = true;
    const what = group.length === 1 ? `job ${group[0]!.jobId} attempt ${group[0]!.attempt}` : `${group.length} jobs`;
    return retryOnConflict<SettleResult[]>(`pool ${pool}: settling ${what}`, async () => {
      // The first try starts from the rows as last seen here; nothing is concluded from them without a write.
      let snap = await this.snapshot(pool, now, undefined, first);
      if (first && group.some((p) => snap.holders[p.jobId]?.attempt !== p.attempt)) snap = await this.snapshot(pool, now);
      first = false;
      const holders = { ...snap.holders };
      const results: (SettleResult | undefined)[] = [];
      const added = new Map<string, { usd: number; jobs: number }>();
      const costs: TransactionAction[] = [];
      let holdOver = snap.holdOverSeconds;
      for (const [i, p] of group.entries()) {
        const holder = holders[p.jobId];
        if (!holder || holder.attempt !== p.attempt) continue;
        delete holders[p.jobId];
        if (p.learnHoldOver) holdOver = holdOverAfter(holdOver, holder, p);
        results[i] = "settled";
        for (const key of [`day-${holder.day}`, `month-${holder.month}`]) {
          const sum = added.get(key) ?? { usd: 0, jobs: 0 };
          added.set(key, { usd: sum.usd + roundUsd(p.costUsd), jobs: sum.jobs + 1 });
        }
        const cost: CostRow = { jobId: p.jobId, attempt: p.attempt, pool, costUsd: roundUsd(p.costUsd), billedSeconds: p.billedSeconds, day: holder.day, month: holder.month, settledAt: p.now.toISOString(), countedUsd: roundUsd(p.costUsd) };
        // billOpen: the reconciler's true-up reads Cost Management for it until the bill is final.
        costs.push(["create", { partitionKey: pool, rowKey: costKey(p.jobId, p.attempt), ...cost, billOpen: true }]);
      }
      // Not a holder (any more): settled before when its cost row is there.
      await Promise.all(group.map(async (p, i) => {
        if (!results[i]) results[i] = (await this.#row(pool, costKey(p.jobId, p.attempt))) ? "alreadySettled" : "notHolder";
      }));
      if (costs.length === 0) return { done: true, value: results as SettleResult[] };
      const actions: TransactionAction[] = [this.#admissionWrite(snap, holders, holdOver)];
      const rows = this.#readOf(snap).windowRows;
      for (const [key, sum] of added) {
        // The holders' windows are usually today's, already read with the snapshot.
        const row = rows.has(key) ? rows.get(key) : await this.#row(pool, key);
        const spent = roundUsd(Number(row?.e.spentUsd ?? 0) + sum.usd);
        const jobs = Number(row?.e.jobs ?? 0) + sum.jobs;
        actions.push(row
          ? ["update", { partitionKey: pool, rowKey: key, spentUsd: spent, jobs }, "Merge", { etag: row.etag }]
          : ["create", { partitionKey: pool, rowKey: key, spentUsd: spent, jobs }]);
      }
      actions.push(...costs);
      return (await this.#submit(actions)) ? { done: true, value: results as SettleResult[] } : { done: false };
    });
  }

  /** Replaces the holders wholesale (reconciler repair), guarded by the ETag. */
  async replaceHolders(snapshot: LedgerSnapshot, holders: Record<string, Holder>): Promise<boolean> {
    return this.#submit([this.#admissionWrite(snapshot, holders)]);
  }

  /** One pool's cost rows, or (pool undefined) every pool's, configured or not any more: costs are history. */
  async *costRows(pool: string | undefined, options: { openBillsOnly?: boolean } = {}): AsyncIterable<CostRow> {
    await ensureTable(this.table);
    const filter = `${pool === undefined ? "" : `PartitionKey eq ${odataString(pool)} and `}RowKey ge 'cost-' and RowKey lt 'cost.'${options.openBillsOnly ? " and billOpen eq true" : ""}`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) yield costRowOf(e.partitionKey!, e);
  }

  /**
   * Records what Cost Management reports for an attempt. The day and month totals then
   * count the larger of the estimate and the bill: the delta goes in with the cost row's
   * update, all or nothing, guarded by ETags. Repeating it with the same bill changes nothing.
   */
  async recordBill(pool: string, jobId: string, attempt: number, billedUsd: number, final: boolean): Promise<CostRow | undefined> {
    return retryOnConflict(`pool ${pool}: recording the bill of job ${jobId} attempt ${attempt}`, async () => {
      const row = await this.#row(pool, costKey(jobId, attempt));
      if (!row) return { done: true, value: undefined };
      const before = costRowOf(pool, row.e);
      const counted = roundUsd(Math.max(before.costUsd, billedUsd));
      const delta = roundUsd(counted - before.countedUsd);
      const actions: TransactionAction[] = [["update", { partitionKey: pool, rowKey: costKey(jobId, attempt), billedUsd, billOpen: !final, billFinal: final, countedUsd: counted }, "Merge", { etag: row.etag }]];
      if (delta !== 0) {
        for (const key of [`day-${before.day}`, `month-${before.month}`]) {
          const w = await this.#row(pool, key);
          actions.push(w
            ? ["update", { partitionKey: pool, rowKey: key, spentUsd: roundUsd(Number(w.e.spentUsd ?? 0) + delta) }, "Merge", { etag: w.etag }]
            : ["create", { partitionKey: pool, rowKey: key, spentUsd: delta, jobs: 0 }]);
        }
      }
      if (!(await this.#submit(actions))) return { done: false };
      return { done: true, value: { ...before, billedUsd, billFinal: final, countedUsd: counted } };
    });
  }

  /**
   * Takes this pool's turn to read the bill, at most once every `everySeconds` across all
   * instances (Cost Management allows few queries a minute). False when another instance
   * read it recently or is reading it now.
   */
  async claimBillCheck(pool: string, now: Date, everySeconds: number): Promise<boolean> {
    await ensureTable(this.table);
    const row = await this.#row(pool, BILL_CHECK);
    if (row && now.getTime() - Date.parse(String(row.e.lastAt)) < everySeconds * 1000) return false;
    const entity = { partitionKey: pool, rowKey: BILL_CHECK, lastAt: now.toISOString() };
    return this.#submit([row ? ["update", entity, "Replace", { etag: row.etag }] : ["create", entity]]);
  }

  async claimEvent(pool: string, key: string, now: Date, staleSeconds: number): Promise<boolean> {
    await ensureTable(this.table);
    const row = await this.#row(pool, key);
    if (row && (row.e.sent === true || now.getTime() - Date.parse(String(row.e.claimedAt)) < staleSeconds * 1000)) return false;
    const entity = { partitionKey: pool, rowKey: key, claimedAt: now.toISOString(), sent: false };
    return this.#submit([row ? ["update", entity, "Replace", { etag: row.etag }] : ["create", entity]]);
  }

  async eventSent(pool: string, key: string): Promise<void> {
    await this.table.updateEntity({ partitionKey: pool, rowKey: key, sent: true }, "Merge");
  }

  /** Spent totals per day and month window: one pool's, or (pool undefined) every pool's. */
  async *totals(pool: string | undefined): AsyncIterable<{ pool: string; window: string; spentUsd: number; jobs: number }> {
    await ensureTable(this.table);
    const filter = `${pool === undefined ? "" : `PartitionKey eq ${odataString(pool)} and `}((RowKey ge 'day-' and RowKey lt 'day.') or (RowKey ge 'month-' and RowKey lt 'month.'))`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      yield { pool: e.partitionKey!, window: e.rowKey!, spentUsd: Number(e.spentUsd), jobs: Number(e.jobs) };
    }
  }

  retireCosts(pool: string, jobId: string, holdOpenBills: boolean): Promise<RetireResult> {
    return retireCostRows(this.table, pool, jobId, holdOpenBills);
  }

  retired(pool: string | undefined): AsyncIterable<RetiredSum> {
    return retiredSums(this.table, pool);
  }

  #admissionWrite(snap: LedgerSnapshot, holders: Record<string, Holder>, holdOverSeconds = snap.holdOverSeconds): TransactionAction {
    const entity = {
      partitionKey: snap.pool,
      rowKey: ADMISSION,
      ...spreadString("holders", JSON.stringify(holders)),
      slotsInUse: Object.keys(holders).length,
      ...(holdOverSeconds === undefined ? {} : { holdOverSeconds }),
    };
    const { etag } = this.#readOf(snap);
    return etag ? ["update", entity, "Replace", { etag }] : ["create", entity];
  }

  async #submit(actions: TransactionAction[]): Promise<boolean> {
    try {
      const r = await this.table.submitTransaction(actions);
      this.#wrote(actions, r.subResponses);
      return true;
    } catch (err) {
      for (const [, entity] of actions) this.#known.delete(knownKey(entity.partitionKey, entity.rowKey));
      const s = statusOf(err);
      if (s === 412 || s === 409 || s === 404) return false;
      throw err;
    }
  }

  /** Keeps #known as written: each tracked row's new content and ETag (a row whose ETag did not come back is forgotten). */
  #wrote(actions: TransactionAction[], answers: { rowKey?: string; etag?: string }[]): void {
    for (const [i, action] of actions.entries()) {
      const [kind, entity] = action;
      if (!tracked(entity.rowKey)) continue;
      const k = knownKey(entity.partitionKey, entity.rowKey);
      const etag = (answers.find((a) => a.rowKey === entity.rowKey) ?? answers[i])?.etag;
      if (kind === "delete" || !etag) {
        this.#known.delete(k);
        continue;
      }
      let content: Record<string, unknown> = { ...entity };
      if (kind === "update" && action[2] === "Merge") {
        // A merge is known only on top of the very version it was conditional on; anything else is forgotten, never guessed.
        const before = this.#known.get(k);
        const on = (action[3] as { etag?: string } | undefined)?.etag;
        if (!before || !on || before.etag !== on) {
          this.#known.delete(k);
          continue;
        }
        content = { ...before.e, ...entity };
      }
      // A Replace drops the spread holder properties a shorter write no longer has; so does this copy.
      this.#known.set(k, { e: content, etag });
    }
  }
}

/** The rows #known keeps: those a settle reads. */
function tracked(rowKey: string): boolean {
  return rowKey === ADMISSION || rowKey.startsWith("day-") || rowKey.startsWith("month-");
}

function knownKey(pool: string, rowKey: string): string {
  return `${pool}\u0000${rowKey}`;
}

function costRowOf(pool: string, e: Record<string, unknown>): CostRow {
  const costUsd = Number(e.costUsd);
  return {
    jobId: String(e.jobId), attempt: Number(e.attempt), pool, costUsd, billedSeconds: Number(e.billedSeconds),
    day: String(e.day), month: String(e.month), settledAt: String(e.settledAt),
    billedUsd: e.billedUsd === undefined ? undefined : Number(e.billedUsd),
    billFinal: e.billFinal === true || undefined,
    // Rows settled before bills were read count their estimate.
    countedUsd: e.countedUsd === undefined ? costUsd : Number(e.countedUsd),
  };
}

export function costKey(jobId: string, attempt: number): string {
  return `cost-${jobId}-${String(attempt).padStart(3, "0")}`;
}

export function usage(snap: LedgerSnapshot) {
  return {
    slotsInUse: Object.keys(snap.holders).length,
    day: { window: snap.day, spentUsd: snap.spentDayUsd, reservedUsd: roundUsd(reservedIn(snap.holders, { day: snap.day })) },
    month: { window: snap.month, spentUsd: snap.spentMonthUsd, reservedUsd: roundUsd(reservedIn(snap.holders, { month: snap.month })) },
  };
}
