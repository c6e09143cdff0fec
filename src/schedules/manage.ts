/**
 * Creating, suspending, resuming and deleting schedules, and how a schedule is shown.
 * Each change is an ETag-guarded read-modify-write, so it never undoes a tick that an
 * instance decided meanwhile.
 */
import type { Deps } from "../scheduler/deps.js";
import { retryOnConflict } from "../store/tables.js";
import { checkDefinition, nextTicks, type ScheduleDefinition, type ScheduleRecord } from "./model.js";
import type { ScheduleStore } from "./store.js";
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
