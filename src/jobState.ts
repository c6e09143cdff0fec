/**
 * The job state machine. Every change of a stored job goes through `changeJob` (or
 * `createJob`), whose moves go through `transition`, which refuses moves the table below
 * does not allow; once written, each move is told to listeners (logs, metrics, tests)
 * as a typed event on `deps.events`.
 *
 *   (new) ──► Waiting ──► Admitted ──► Launching ──► Running ──► Finishing ──► Succeeded
 *     │          │            │            │                        │      ├─► Failed
 *     ▼          ▼            └────────────┴──► Finishing           │      ├─► TimedOut
 *  Rejected   Canceled                                              │      └─► Canceled
 *               │                                                   └──► Waiting (retry)
 *               └──► Running (an array parent, once its children are made: array.ts)
 *  An array's `retry --failed` (arrayRetry.ts): its Failed/TimedOut children ──► Waiting,
 *  and the Failed parent ──► Running.
 *
 * Waiting:   accepted; in the pool's waiting line until a slot and budget are free.
 * Admitted:  holds a slot and a budget reservation; a launch is on its way.
 * Launching: the container group for the current attempt is being created.
 * Running:   the group exists; the monitor polls it and copies its logs.
 * Finishing: the attempt's outcome is recorded; the group is being deleted and the
 *            slot and reservation settled. Resumable after a crash.
 */
import { FINAL_STATES, type JobRecord, type JobState } from "./model.js";
import { mutateJob, type JobStore, type Versioned } from "./store/jobStore.js";

export const TRANSITIONS: Readonly<Record<JobState | "New", readonly JobState[]>> = {
  New: ["Waiting", "Rejected"],
  // Waiting → Running: an array parent, once its first children are made (it never holds a slot itself).
  Waiting: ["Admitted", "Canceled", "Running"],
  Admitted: ["Launching", "Finishing"],
  Launching: ["Running", "Finishing"],
  Running: ["Finishing"],
  Finishing: ["Succeeded", "Failed", "TimedOut", "Canceled", "Waiting"],
  Succeeded: [],
  // `retry --failed` of an array: its failed children wait again, and the parent runs again.
  Failed: ["Waiting", "Running"],
  TimedOut: ["Waiting"],
  Canceled: [],
  Rejected: [],
};

export class IllegalTransition extends Error {
  constructor(readonly jobId: string, readonly from: JobState | "New", readonly to: JobState) {
    super(`job ${jobId}: cannot go from ${from} to ${to}`);
    this.name = "IllegalTransition";
  }
}

export interface TransitionEvent {
  jobId: string;
  from: JobState | "New";
  to: JobState;
  at: string;
  reason?: string;
  attempt?: number;
  /** When the job entered `from` (telemetry: time spent in a state). */
  since?: string;
  /** The job as written (telemetry, completion events). */
  job?: JobRecord;
}

type Listener = (e: TransitionEvent) => void;

/** Where transitions are told, once each, after their write: logs, metrics and tests listen (deps.events). */
export interface JobEvents {
  emit(event: TransitionEvent): void;
  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener): () => void;
}

export function newJobEvents(): JobEvents {
  const listeners = new Set<Listener>();
  return {
    emit(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          // A listener's failure must not undo a persisted transition.
        }
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

export function canTransition(from: JobState | "New", to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.has(state);
}

/**
 * Returns the job moved to `to`, with `patch` applied, and the event that says so: pure.
 * changeJob and createJob persist it and tell the event once the write has landed.
 */
export function transition(job: JobRecord | undefined, to: JobState, patch: Partial<JobRecord> & { id?: string }, now: Date): { job: JobRecord; event: TransitionEvent } {
  const from = job ? job.state : "New";
  const id = job?.id ?? patch.id ?? "?";
  if (!canTransition(from, to)) throw new IllegalTransition(id, from, to);
  const at = now.toISOString();
  const next = { ...(job as JobRecord), ...patch, state: to, updatedAt: at } as JobRecord;
  if (isFinal(to)) next.finishedAt ??= at;
  return { job: next, event: { jobId: id, from, to, at, reason: patch.reason ?? undefined, attempt: next.attempts?.length || undefined, since: job?.updatedAt, job: next } };
}

/** Applies one allowed transition inside a change (see changeJob), noting its event. */
export type Move = (job: JobRecord, to: JobState, patch?: Partial<JobRecord>) => JobRecord;

export interface JobWriter {
  jobs: JobStore;
  events: JobEvents;
  clock: { now(): Date };
}

export interface JobChange {
  before: JobRecord;
  after: JobRecord;
  changed: boolean;
  /** The transitions written, in order (several for a move through a state, none for other changes). */
  events: TransitionEvent[];
}

/**
 * The one way a stored job changes: an ETag-guarded read-modify-write (mutateJob) whose
 * `change` returns the new record, or undefined to leave it. Its state may change only
 * through `move`, which checks the table; once the write lands, exactly the transitions
 * it made are told to `events`, in order. A change that lost a race runs again on the
 * fresh record, so its moves are noted afresh.
 */
export async function changeJob(w: JobWriter, jobId: string, change: (job: JobRecord, move: Move) => JobRecord | undefined, known?: Versioned<JobRecord>): Promise<JobChange | undefined> {
  const now = w.clock.now();
  let events: TransitionEvent[] = [];
  const r = await mutateJob(w.jobs, jobId, (job) => {
    events = [];
    const move: Move = (j, to, patch = {}) => {
      const t = transition(j, to, patch, now);
      events.push(t.event);
      return t.job;
    };
    const next = change(job, move);
    if (next && next.state !== job.state && events.at(-1)?.to !== next.state) {
      throw new Error(`job ${jobId}: its state changed from ${job.state} to ${next.state} without a transition`);
    }
    return next;
  }, undefined, known);
  if (!r) return undefined;
  if (!r.changed) return { ...r, events: [] };
  for (const e of events) w.events.emit(e);
  return { ...r, events };
}

/** A new job, stored in its first state; undefined when a job with that id exists already. */
export async function createJob(
  w: JobWriter,
  to: "Waiting" | "Rejected",
  record: Partial<JobRecord> & { id: string },
  then?: (job: JobRecord) => Promise<void>,
): Promise<JobRecord | undefined> {
  const { job, event } = transition(undefined, to, record, w.clock.now());
  // `then` (a submission's line entry and pump) runs once the record is in, beside its index
  // writes, one round trip sooner than after them; the creation is told before anything it leads to.
  const beside =
    then &&
    (async () => {
      w.events.emit(event);
      await then(job);
    });
  if (!(await w.jobs.create(job, beside))) return undefined;
  if (!beside) w.events.emit(event);
  return job;
}

/**
 * Deletes a finished job's record (retention, see scheduler/retention.ts): only a job in a
 * final state, and only if it has not changed since read (ETag). False when it is not
 * final, changed, or is gone already — another instance may be deleting it too.
 */
export async function deleteFinishedJob(w: Pick<JobWriter, "jobs">, jobId: string, etag: string, job: JobRecord): Promise<boolean> {
  if (!isFinal(job.state)) return false;
  return w.jobs.remove(jobId, etag);
}
