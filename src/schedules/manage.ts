/**
 * Creating, suspending, resuming and deleting schedules, and how a schedule is shown.
 * Each change is an ETag-guarded read-modify-write, so it never undoes a tick that an
 * instance decided meanwhile.
 */
import { createHash } from "node:crypto";
import type { Deps } from "../scheduler/deps.js";
import { retryOnConflict } from "../store/tables.js";
import { checkDefinition, nextTicks, type ScheduleDefinition, type ScheduleRecord } from "./model.js";
import type { ScheduleStore, Versioned } from "./store.js";
import type { SpecError } from "../model.js";

export type CreateResult =
  | { outcome: "created"; record: ScheduleRecord }
  | { outcome: "invalid"; errors: SpecError[] }
  | { outcome: "exists"; record: ScheduleRecord };

export function newRecord(def: ScheduleDefinition, now: Date, source: ScheduleRecord["source"], configDigest?: string): ScheduleRecord {
  const at = now.toISOString();
  // Ticks before the schedule existed are not "missed": it starts counting now.
  return { ...def, createdAt: at, updatedAt: at, lastTick: at, history: [], source, ...(configDigest ? { configDigest } : {}) };
}

export async function createSchedule(deps: Deps, store: ScheduleStore, input: unknown): Promise<CreateResult> {
  const checked = checkDefinition(input, deps.config.pools, deps.config.secrets);
  if (!checked.ok) return { outcome: "invalid", errors: checked.errors };
  const record = newRecord(checked.definition, deps.clock.now(), "api");
  if (await store.create(record)) return { outcome: "created", record };
  return { outcome: "exists", record: (await store.get(record.name))!.value };
}

/** Suspends or resumes; undefined when there is no such schedule. Ticks that fall while suspended are never run. */
export async function setSuspended(deps: Deps, store: ScheduleStore, name: string, suspend: boolean): Promise<ScheduleRecord | undefined> {
  return retryOnConflict(`${suspend ? "suspending" : "resuming"} schedule ${name}`, async () => {
    const v = await store.get(name);
    if (!v) return { done: true, value: undefined };
    if (v.value.suspend === suspend) return { done: true, value: v.value };
    const now = deps.clock.now().toISOString();
    const next: ScheduleRecord = { ...v.value, suspend, updatedAt: now, ...(suspend ? {} : { lastTick: now }) };
    return (await store.replace(next, v.etag)) ? { done: true, value: next } : { done: false };
  });
}

/** Deletes the definition; its runs stay, as ordinary jobs. False when there was none. */
export async function deleteSchedule(store: ScheduleStore, name: string): Promise<boolean> {
  return store.delete(name);
}

export interface RunView {
  tick: string;
  outcome: string;
  jobId?: string;
  /** The run's job's state now (undefined when the job is gone or there is none). */
  state?: string;
  reason?: string;
}

export function scheduleSummary(rec: ScheduleRecord, now: Date) {
  const last = rec.history[0];
  return {
    name: rec.name,
    cron: rec.cron,
    timeZone: rec.timeZone,
    concurrency: rec.concurrency,
    suspend: rec.suspend,
    nextRun: rec.suspend ? null : nextTicks(rec, now, 1)[0]!.toISOString(),
    lastRun: last ? { tick: last.tick, outcome: last.outcome, jobId: last.jobId ?? null } : null,
    source: rec.source,
  };
}

/** The whole schedule: its template, policies, the next five run times and its history with each run's state. */
export async function scheduleView(deps: Deps, rec: ScheduleRecord) {
  const now = deps.clock.now();
  const jobs = await Promise.all(rec.history.map((r) => (r.jobId ? deps.jobs.get(r.jobId) : undefined)));
  const history: RunView[] = rec.history.map((r, i) => ({ ...r, ...(jobs[i] ? { state: jobs[i]!.value.state } : {}) }));
  return {
    ...scheduleSummary(rec, now),
    startingDeadlineSeconds: rec.startingDeadlineSeconds ?? null,
    historyLimit: rec.historyLimit,
    job: rec.job,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    lastTick: rec.lastTick,
    nextRuns: rec.suspend ? [] : nextTicks(rec, now, 5).map((d) => d.toISOString()),
    history,
  };
}

/**
 * Makes the table agree with BURST_SCHEDULES: a new definition is created, a changed one
 * replaces the stored definition (its lastTick and history stay), and one no longer in the
 * settings is deleted. A definition unchanged since it was stored is left alone, so a
 * `burst schedule suspend` holds until the settings change. Answers the records as they
 * now are.
 */
export async function syncConfigSchedules(
  deps: Deps,
  store: ScheduleStore,
  stored: Versioned<ScheduleRecord>[],
): Promise<Versioned<ScheduleRecord>[]> {
  const wanted = new Map(deps.config.schedules.map((d) => [d.name, d]));
  const byName = new Map(stored.map((v) => [v.value.name, v]));
  let changed = false;
  for (const [name, def] of wanted) {
    const digest = createHash("sha256").update(JSON.stringify(def)).digest("hex").slice(0, 16);
    const v = byName.get(name);
    if (v?.value.source === "config" && v.value.configDigest === digest) continue;
    changed = true;
    if (!v) {
      await store.create(newRecord(def, deps.clock.now(), "config", digest));
    } else {
      // A losing write means another instance synced (or fired) first; the next check looks again.
      await store.replace(
        { ...v.value, ...def, source: "config", configDigest: digest, updatedAt: deps.clock.now().toISOString() },
        v.etag,
      );
    }
  }
  for (const v of stored) {
    if (v.value.source === "config" && !wanted.has(v.value.name)) {
      changed = true;
      await store.delete(v.value.name, v.etag);
    }
  }
  return changed ? store.list() : stored;
}
