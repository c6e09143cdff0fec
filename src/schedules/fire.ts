/**
 * Firing: deciding each tick once, across any number of instances, and submitting its run.
 *
 * A tick is decided by one ETag-guarded write of the schedule's record: `lastTick` moves
 * to the tick, the decision joins the history and, for a run, `pending` names the job
 * (its id derived from the schedule and the tick). Of several instances deciding the same
 * tick, one write lands; the others re-read, find the tick decided and stop. The winner
 * then submits and clears `pending`; if it dies in between, whoever looks next submits
 * the same job id again (submission is idempotent) — so each tick yields one job.
 */
import { randomBytes } from "node:crypto";
import { validateSpec } from "../jobSpec.js";
import { isFinal } from "../jobState.js";
import { errorMessage } from "../errors.js";
import { cancelJob } from "../scheduler/cancel.js";
import { jobIdForInternalKey } from "../scheduler/ids.js";
import { submitJob } from "../scheduler/submit.js";
import type { Deps } from "../scheduler/deps.js";
import { WriteContention } from "../store/tables.js";
import { runKey, ticksBetween, type ScheduleRecord, type ScheduleRun } from "./model.js";
import type { ScheduleStore, Versioned } from "./store.js";
import { syncConfigSchedules } from "./manage.js";

export type Evaluation =
  | { outcome: "notDue" | "suspended" | "gone" | "pending" }
  | { outcome: "fired" | "skipped" | "missed"; tick: string; jobId?: string; reason?: string };

const TRIES = 30;

/**
 * How long a decided run is left to the instance that decided it before any other submits
 * it: each check would otherwise have every instance that lost the race submit the run
 * again (harmless, but a job read, a line entry and a pump each). A crash there delays
 * the run by this much.
 */
export const PENDING_GRACE_MS = 30_000;
const pause = (i: number) => new Promise((r) => setTimeout(r, Math.random() * 15 * (i + 1)));

/** The job a run key becomes (submitJob derives the same id from the template's pool). */
export function runJobId(record: ScheduleRecord, key: string): string {
  const checked = validateSpec(record.job);
  return jobIdForInternalKey(checked.ok ? checked.spec.pool : "default", key);
}

/** Live runs in the history (of any outcome that made a job), oldest first. */
async function liveRuns(deps: Deps, record: ScheduleRecord): Promise<{ id: string; state: string }[]> {
  const ids = [...new Set(record.history.filter((r) => r.jobId).map((r) => r.jobId!))];
  const jobs = await Promise.all(ids.map((id) => deps.jobs.get(id)));
  return jobs
    .filter((j) => j && !isFinal(j.value.state))
    .map((j) => ({ id: j!.value.id, state: j!.value.state }))
    .reverse();
}

/**
 * Submits the pending run (canceling first what Replace displaces) and clears it. Safe to
 * repeat from any instance. Answers the record's new version, or undefined when someone
 * else changed it meanwhile (they will have seen `pending` too; the caller re-reads).
 */
export async function settlePending(
  deps: Deps,
  store: ScheduleStore,
  v: Versioned<ScheduleRecord>,
): Promise<Versioned<ScheduleRecord> | undefined> {
  const p = v.value.pending;
  if (!p) return v;
  for (const id of p.replace) await cancelJob(deps, id);
  await submitJob(deps, v.value.job, { jobId: p.jobId, internalKey: p.key, source: { schedule: v.value.name, tick: p.tick } });
  const { pending: _done, ...rest } = v.value;
  const next: ScheduleRecord = { ...rest, updatedAt: deps.clock.now().toISOString() };
  const etag = await store.replace(next, v.etag);
  return etag ? { value: next, etag } : undefined;
}

/**
 * Why the run's pool has no room for it, if it has none: the same bound (maxWaiting) that
 * answers POST /api/jobs with 429, so a schedule firing into a stalled pool does not grow
 * its line without end.
 */
async function lineFull(deps: Deps, record: ScheduleRecord): Promise<string | undefined> {
  const checked = validateSpec(record.job);
  const pool = deps.config.pools.get(checked.ok ? checked.spec.pool : "default");
  if (!pool) return undefined;
  const waiting = await deps.ledger.countWaiting(pool.name, pool.maxWaiting);
  return waiting >= pool.maxWaiting
    ? `pool ${pool.name}'s waiting line is full (${waiting} of its maxWaiting ${pool.maxWaiting})`
    : undefined;
}

function remember(record: ScheduleRecord, run: ScheduleRun): ScheduleRun[] {
  return [run, ...record.history].slice(0, record.historyLimit);
}

/** Decides the latest tick due for one schedule, if any, and fires it. */
export async function evaluateSchedule(deps: Deps, store: ScheduleStore, name: string): Promise<Evaluation> {
  for (let i = 0; i < TRIES; i++) {
    let v = await store.get(name);
    if (!v) return { outcome: "gone" };
    const now = deps.clock.now();
    if (v.value.pending) {
      if (now.getTime() - Date.parse(v.value.pending.decidedAt) < PENDING_GRACE_MS) return { outcome: "pending" };
      v = await settlePending(deps, store, v);
      if (!v) {
        await pause(i);
        continue;
      }
    }
    const rec = v.value;
    if (rec.suspend) return { outcome: "suspended" };
    const due = ticksBetween(rec, new Date(rec.lastTick), now);
    if (!due.latest) return { outcome: "notDue" };
    const tick = due.latest.toISOString();
    const earlier = due.count - 1;
    const lateSeconds = (now.getTime() - due.latest.getTime()) / 1000;
    const missedNote =
      earlier > 0 ? `${earlier}${due.count >= 1000 ? " or more" : ""} earlier tick${earlier === 1 ? "" : "s"} not run` : undefined;
    let run: ScheduleRun;
    let pending: ScheduleRecord["pending"];
    let full: string | undefined;
    if (rec.startingDeadlineSeconds !== undefined && lateSeconds > rec.startingDeadlineSeconds) {
      run = {
        tick,
        outcome: "missed",
        at: now.toISOString(),
        reason: `${Math.round(lateSeconds)} s after the tick, past startingDeadlineSeconds (${rec.startingDeadlineSeconds})${missedNote ? `; ${missedNote}` : ""}`,
      };
    } else {
      const live = rec.concurrency === "Allow" ? [] : await liveRuns(deps, rec);
      if (rec.concurrency === "Forbid" && live.length > 0) {
        run = {
          tick,
          outcome: "skipped",
          at: now.toISOString(),
          reason: `run ${live[0]!.id} is still ${live[0]!.state} (concurrency Forbid)`,
        };
      } else if (live.length === 0 && (full = await lineFull(deps, rec))) {
        run = { tick, outcome: "skipped", at: now.toISOString(), reason: full };
      } else {
        const key = runKey(rec.name, tick);
        pending = { tick, key, jobId: runJobId(rec, key), replace: live.map((r) => r.id), decidedAt: now.toISOString() };
        const notes = [
          missedNote,
          pending.replace.length ? `replaced ${pending.replace.join(", ")} (concurrency Replace)` : undefined,
        ].filter(Boolean);
        run = {
          tick,
          outcome: "fired",
          jobId: pending.jobId,
          at: now.toISOString(),
          ...(notes.length ? { reason: notes.join("; ") } : {}),
        };
      }
    }
    const decided: ScheduleRecord = {
      ...rec,
      lastTick: tick,
      updatedAt: now.toISOString(),
      history: remember(rec, run),
      ...(pending ? { pending } : {}),
    };
    const etag = await store.replace(decided, v.etag);
    if (!etag) {
      // Another instance decided first: re-read, and find the tick decided (or a newer one due).
      await pause(i);
      continue;
    }
    if (pending) {
      // A failure here leaves `pending` for the next look (this instance's or another's) to submit.
      await settlePending(deps, store, { value: decided, etag }).catch((err: unknown) =>
        deps.log.warn(
          `schedule ${name}: run ${pending.jobId} for ${tick} not submitted yet (${errorMessage(err)}); the next check submits it`,
        ),
      );
    }
    return { outcome: run.outcome as "fired" | "skipped" | "missed", tick, jobId: run.jobId, reason: run.reason };
  }
  throw new WriteContention(`schedule ${name}: still losing to concurrent writers after ${TRIES} tries`);
}

/** Runs the schedule now, outside its ticks and whatever its concurrency policy; answers the run's job id. */
export async function triggerSchedule(deps: Deps, store: ScheduleStore, name: string): Promise<string | undefined> {
  for (let i = 0; i < TRIES; i++) {
    let v = await store.get(name);
    if (!v) return undefined;
    if (v.value.pending) {
      v = await settlePending(deps, store, v);
      if (!v) {
        await pause(i);
        continue;
      }
    }
    const now = deps.clock.now().toISOString();
    const key = `${runKey(name, now)}:manual:${randomBytes(6).toString("hex")}`;
    const jobId = runJobId(v.value, key);
    const rec: ScheduleRecord = {
      ...v.value,
      updatedAt: now,
      history: remember(v.value, { tick: now, outcome: "triggered", jobId, at: now }),
      pending: { tick: now, key, jobId, replace: [], decidedAt: now },
    };
    const etag = await store.replace(rec, v.etag);
    if (!etag) {
      await pause(i);
      continue;
    }
    await settlePending(deps, store, { value: rec, etag });
    return jobId;
  }
  throw new WriteContention(`schedule ${name}: still losing to concurrent writers after ${TRIES} tries`);
}

export interface CheckReport {
  checked: number;
  fired: string[];
  skipped: string[];
  missed: string[];
  failed: string[];
}

/**
 * The timer's work: the table is brought in line with BURST_SCHEDULES, then every
 * schedule with a run pending or a tick due is evaluated. One
 * schedule's failure is logged and does not stop the others; the next check retries it.
 */
export async function checkSchedules(deps: Deps, store: ScheduleStore): Promise<CheckReport> {
  const report: CheckReport = { checked: 0, fired: [], skipped: [], missed: [], failed: [] };
  const now = deps.clock.now();
  for (const { value: rec } of await syncConfigSchedules(deps, store, await store.list())) {
    report.checked++;
    if (!rec.pending && (rec.suspend || !ticksBetween(rec, new Date(rec.lastTick), now, 1).latest)) continue;
    try {
      const e = await evaluateSchedule(deps, store, rec.name);
      if (e.outcome === "fired" || e.outcome === "skipped" || e.outcome === "missed") report[e.outcome].push(`${rec.name}@${e.tick}`);
    } catch (err) {
      report.failed.push(rec.name);
      deps.log.error(`schedule ${rec.name}: ${errorMessage(err)}`);
    }
  }
  return report;
}
