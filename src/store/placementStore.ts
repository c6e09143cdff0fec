/**
 * What is held and created in each subscription and region, shared by every pool and
 * every instance: one entity per (subscription, region) in the ledger table's
 * `~placements` partition (a `~` never starts a pool name), holding the attempts that
 * hold room there, the creates of the last hour, and each placement's circuit breaker.
 * Every change is a conditional write on the entity's ETag, as admission's are, so no
 * number of instances can together take more than a placement's quota.
 */
import type { TableClient } from "@azure/data-tables";
import {
  PROBE_SECONDS,
  cooldownSeconds,
  countCall,
  uncountCall,
  callsFrom,
  createsIn,
  inWindow,
  deleteRoom,
  room,
  type Breaker,
  type Placement,
  type QuotaUse,
  type RoomVerdict,
} from "../placements.js";
import { ensureTable, gatherString, isConflict, isNotFound, retryOnConflict, spreadString } from "./tables.js";

export const PLACEMENTS_PARTITION = "~placements";

export type Reservation =
  /** `probing`: the placement's breaker had opened and its cooldown is over; a create that goes through should close it (accepted). */
  | { ok: true; placement: Placement; probing: boolean }
  | { ok: false; verdicts: { placement: Placement; verdict: Exclude<RoomVerdict, { ok: true }> }[] };

export interface PlacementStatus {
  placement: string;
  priority: string;
  groups: { inUse: number; limit: number };
  cores: { inUse: number; limit: number };
  createsLeft: { per5Min: number; perHour: number };
  cooldown: { until: string; reason: string; failures: number } | null;
}

export interface PlacementHolder {
  placement: string;
  key: string;
  subscriptionRegion: string;
  createdAt?: number;
}

export interface PlacementStore {
  /**
   * Reserves room for one attempt (`key`) in the first of `placements` that has it, and
   * counts its create; an attempt that already holds room in one of them keeps it.
   */
  reserve(placements: readonly Placement[], key: string, cores: number, now: Date): Promise<Reservation>;
  /**
   * Counts one delete in the placement's subscription and region if ACI's delete windows
   * there take it now; else says when they will. ACI answers a delete past its windows
   * with 429, and the group keeps its quota until it is gone.
   */
  reserveDelete(placement: Placement, key: string, now: Date): Promise<RoomVerdict>;
  /**
   * Gives an attempt's room back; harmless to repeat, or when it held none. `createRefused`:
   * ACI refused its PUT outright, so its create is taken out of the windows too. `deletedAt`:
   * its group's delete is done, and counts in the windows from then.
   */
  release(
    placement: Pick<Placement, "id" | "subscriptionId" | "region">,
    key: string,
    options?: { createRefused?: boolean; deletedAt?: Date },
  ): Promise<void>;
  /** A capacity or quota refusal: the placement is not tried again until its cooldown ends. */
  refused(placement: Placement, reason: string, now: Date): Promise<Breaker>;
  /** A create went through where a breaker had opened (a probe): the breaker closes. */
  accepted(placement: Placement): Promise<void>;
  status(placement: Placement, now: Date): Promise<PlacementStatus>;
  /**
   * Every attempt holding room anywhere, by placement id, with when it reserved (epoch
   * seconds; absent on rows written before it was kept): the reconciler's repair.
   */
  holders(): Promise<PlacementHolder[]>;
}

type Row = { use: QuotaUse; etag?: string };

/** One change waiting for its row's next write (#change). */
interface PendingChange {
  what: string;
  f: (use: QuotaUse) => { write: boolean; value: unknown };
  nowS?: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const rowKey = (p: { subscriptionId: string; region: string }) => `${p.subscriptionId.toLowerCase()}|${p.region}`;
const HOUR_S = 3600;

export class TablePlacementStore implements PlacementStore {
  /** Per row: the changes asked for while its current write is under way. */
  readonly #pending = new Map<string, PendingChange[]>();
  /**
   * Per row: the version this process last read or wrote. A change starts from it instead
   * of reading the row again (a launch changes its row three times: the create, the
   * delete, the release); if another instance wrote since, the ETag refuses the write and
   * the change runs again on a fresh read. A change that decides to write nothing is
   * decided again on a fresh read, since no ETag would catch a stale "no".
   */
  readonly #known = new Map<string, Row>();

  constructor(private readonly table: TableClient) {}

  async #read(key: string): Promise<Row> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(PLACEMENTS_PARTITION, key);
      return { use: useFrom(e), etag: e.etag };
    } catch (err) {
      if (isNotFound(err)) return { use: { holders: {}, creates: [], deletes: [], breakers: {} } };
      throw err;
    }
  }

  /** Writes the row if nobody changed it since it was read; false when somebody did. */
  async #write(key: string, row: Row, nowS?: number): Promise<boolean> {
    if (nowS !== undefined) {
      row.use.creates = row.use.creates.filter(([t]) => inWindow(t, nowS, HOUR_S));
      row.use.deletes = row.use.deletes.filter(([t]) => inWindow(t, nowS, HOUR_S));
    }
    const entity = {
      partitionKey: PLACEMENTS_PARTITION,
      rowKey: key,
      // A raised quota can hold more than one Table property's worth of holders.
      ...spreadString("use", JSON.stringify(row.use)),
      groups: Object.keys(row.use.holders).length,
    };
    try {
      const r = row.etag ? await this.table.updateEntity(entity, "Replace", { etag: row.etag }) : await this.table.createEntity(entity);
      if (r.etag) this.#known.set(key, { use: row.use, etag: r.etag });
      else this.#known.delete(key);
      return true;
    } catch (err) {
      this.#known.delete(key);
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Read, change, write conditionally; again from the read when another writer got there
   * first. Changes to one row asked for in this process while a write of it is under way
   * go together in its next write, in the order asked: a burst of launches in one
   * subscription and region is one read and one write per round trip, not one each, most
   * of them lost to the ETag and retried (as pumps take turns, flow.ts).
   */
  #change<T>(key: string, what: string, f: (use: QuotaUse) => { write: boolean; value: T }, nowS?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const change: PendingChange = { what, f, nowS, resolve: resolve as (v: unknown) => void, reject };
      const queued = this.#pending.get(key);
      if (queued) return void queued.push(change);
      this.#pending.set(key, [change]);
      void this.#drain(key);
    });
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#pending.get(key)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      const times = batch.map((c) => c.nowS).filter((t): t is number => t !== undefined);
      try {
        const values = await retryOnConflict<unknown[]>(
          batch.length === 1 ? batch[0]!.what : `${batch[0]!.what} and ${batch.length - 1} more changes`,
          async () => {
            const known = this.#known.get(key);
            let row = known ? { use: structuredClone(known.use), etag: known.etag } : await this.#read(key);
            let results = batch.map((c) => c.f(row.use));
            if (known && !results.some((r) => r.write)) {
              row = await this.#read(key);
              results = batch.map((c) => c.f(row.use));
            }
            if (!results.some((r) => r.write) || (await this.#write(key, row, times.length ? Math.max(...times) : undefined)))
              return { done: true, value: results.map((r) => r.value) };
            return { done: false };
          },
        );
        batch.forEach((c, i) => c.resolve(values[i]));
      } catch (err) {
        for (const c of batch) c.reject(err);
      }
    }
    this.#pending.delete(key);
  }

  async reserve(placements: readonly Placement[], key: string, cores: number, now: Date): Promise<Reservation> {
    const nowMs = now.getTime();
    const verdicts: Extract<Reservation, { ok: false }>["verdicts"] = [];
    for (const p of placements) {
      const got = await this.#change(
        rowKey(p),
        `placement ${p.id}: reserving for ${key}`,
        (use) => {
          const probing = use.breakers[p.id] !== undefined;
          const held = use.holders[key];
          if (held) return { write: false, value: held.placement === p.id ? { verdict: { ok: true } as RoomVerdict, probing } : undefined };
          const v = room(use, p, cores, nowMs);
          if (!v.ok) return { write: false, value: { verdict: v, probing } };
          use.holders[key] = { cores, placement: p.id, createdAt: Math.floor(nowMs / 1000) };
          // Half-open: this launch is the probe; the others leave the placement alone until its answer.
          if (probing) use.breakers[p.id] = { ...use.breakers[p.id]!, probeUntil: new Date(nowMs + PROBE_SECONDS * 1000).toISOString() };
          countCall(use.creates, Math.floor(nowMs / 1000));
          return { write: true, value: { verdict: v, probing } };
        },
        Math.floor(nowMs / 1000),
      );
      if (got?.verdict.ok) return { ok: true, placement: p, probing: got.probing };
      if (got && !got.verdict.ok) verdicts.push({ placement: p, verdict: got.verdict });
    }
    return { ok: false, verdicts };
  }

  async reserveDelete(p: Placement, key: string, now: Date): Promise<RoomVerdict> {
    const nowS = Math.floor(now.getTime() / 1000);
    return this.#change(
      rowKey(p),
      `placement ${p.id}: counting the delete of ${key}`,
      (use) => {
        const held = use.holders[key];
        // Counted once per group: a repeated finish step (a crash, two polls) finds it counted. Without
        // room held, the group is gone (room goes back only after the delete), and ACI counts no second delete.
        if (!held || held.deleteCountedAt !== undefined) return { write: false, value: { ok: true } as RoomVerdict };
        const v = deleteRoom(use, p, now.getTime());
        if (!v.ok) return { write: false, value: v };
        countCall(use.deletes, nowS);
        held.deleteCountedAt = nowS;
        return { write: true, value: v };
      },
      nowS,
    );
  }

  async release(
    placement: Pick<Placement, "id" | "subscriptionId" | "region">,
    key: string,
    options: { createRefused?: boolean; deletedAt?: Date } = {},
  ): Promise<void> {
    await this.#change(rowKey(placement), `placement ${placement.id}: releasing ${key}`, (use) => {
      const held = use.holders[key];
      if (!held) return { write: false, value: undefined };
      delete use.holders[key];
      // ACI refused the PUT before making anything, and counts such a create in no window (as the emulator models it).
      if (options.createRefused && held.createdAt !== undefined) uncountCall(use.creates, held.createdAt);
      // The delete was counted before it was sent, and ARM's pacing may have held it back for seconds: ACI counted it
      // when it arrived, by the time it was done at the latest. Counted from then, the window reopens no sooner than ACI's.
      if (options.deletedAt && held.deleteCountedAt !== undefined) {
        uncountCall(use.deletes, held.deleteCountedAt);
        countCall(use.deletes, Math.max(held.deleteCountedAt, Math.floor(options.deletedAt.getTime() / 1000)));
      }
      return { write: true, value: undefined };
    });
  }

  async refused(placement: Placement, reason: string, now: Date): Promise<Breaker> {
    return this.#change(rowKey(placement), `placement ${placement.id}: cooling down`, (use) => {
      const open = use.breakers[placement.id];
      // Already cooling and no probe out: this refusal answers a create sent before the breaker opened.
      if (open && Date.parse(open.until) > now.getTime() && !open.probeUntil) return { write: false, value: open };
      const failures = (use.breakers[placement.id]?.failures ?? 0) + 1;
      const b: Breaker = { failures, reason, until: new Date(now.getTime() + cooldownSeconds(failures) * 1000).toISOString() };
      use.breakers[placement.id] = b;
      return { write: true, value: b };
    });
  }

  async accepted(placement: Placement): Promise<void> {
    await this.#change(rowKey(placement), `placement ${placement.id}: closing its breaker`, (use) => {
      if (!use.breakers[placement.id]) return { write: false, value: undefined };
      delete use.breakers[placement.id];
      return { write: true, value: undefined };
    });
  }

  async status(p: Placement, now: Date): Promise<PlacementStatus> {
    const { use } = await this.#read(rowKey(p));
    const held = Object.values(use.holders);
    const nowS = now.getTime() / 1000;
    const b = use.breakers[p.id];
    return {
      placement: p.id,
      priority: p.priority,
      groups: { inUse: held.length, limit: p.limits.groups },
      cores: { inUse: held.reduce((s, h) => s + h.cores, 0), limit: p.limits.cores },
      createsLeft: {
        per5Min: Math.max(0, p.limits.createsPer5Min - createsIn(use, nowS, 300)),
        perHour: Math.max(0, p.limits.createsPerHour - createsIn(use, nowS, HOUR_S)),
      },
      cooldown: b && Date.parse(b.until) > now.getTime() ? { until: b.until, reason: b.reason, failures: b.failures } : null,
    };
  }

  async holders(): Promise<PlacementHolder[]> {
    await ensureTable(this.table);
    const out: PlacementHolder[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${PLACEMENTS_PARTITION}'` },
    })) {
      const use = useFrom(e);
      for (const [key, h] of Object.entries(use.holders))
        out.push({ placement: h.placement, key, subscriptionRegion: e.rowKey!, createdAt: h.createdAt });
    }
    return out;
  }
}

function useFrom(e: Record<string, unknown>): QuotaUse {
  const use = JSON.parse(gatherString(e, "use") ?? "{}") as Partial<QuotaUse> & { creates?: unknown };
  return { holders: use.holders ?? {}, creates: callsFrom(use.creates), deletes: callsFrom(use.deletes), breakers: use.breakers ?? {} };
}
