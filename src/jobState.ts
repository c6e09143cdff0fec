/**
 * The job state machine. Every change of a job's state goes through `transition`,
 * which refuses moves the table below does not allow and tells listeners (logs,
 * metrics, tests) through a typed event.
 *
 *   (new) ──► Waiting ──► Admitted ──► Launching ──► Running ──► Finishing ──► Succeeded
 *     │          │            │            │                        │      ├─► Failed
 *     ▼          ▼            └────────────┴──► Finishing           │      ├─► TimedOut
 *  Rejected   Canceled                                              │      └─► Canceled
 *                                                                   └──► Waiting (retry)
 *
 * Waiting:   accepted; in the pool's waiting line until a slot and budget are free.
 * Admitted:  holds a slot and a budget reservation; a launch is on its way.
 * Launching: the container group for the current attempt is being created.
 * Running:   the group exists; the monitor polls it and copies its logs.
 * Finishing: the attempt's outcome is recorded; the group is being deleted and the
 *            slot and reservation settled. Resumable after a crash.
 */
import { FINAL_STATES, type JobRecord, type JobState } from "./model.js";

export const TRANSITIONS: Readonly<Record<JobState | "New", readonly JobState[]>> = {
  New: ["Waiting", "Rejected"],
  Waiting: ["Admitted", "Canceled", "Rejected"],
  Admitted: ["Launching", "Finishing"],
  Launching: ["Running", "Finishing"],
  Running: ["Finishing"],
  Finishing: ["Succeeded", "Failed", "TimedOut", "Canceled", "Waiting"],
  Succeeded: [],
  Failed: [],
  TimedOut: [],
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
}

type Listener = (e: TransitionEvent) => void;
const listeners = new Set<Listener>();

/** Subscribes to every transition made in this process; returns the unsubscribe function. */
export function onTransition(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function canTransition(from: JobState | "New", to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.has(state);
}

/**
 * Returns the job moved to `to`, with `patch` applied. The caller persists it (with
 * its ETag); listeners hear about it only once `announce` is called after the write.
 */
export function transition(job: JobRecord | undefined, to: JobState, patch: Partial<JobRecord> & { id?: string }, now: Date): { job: JobRecord; event: TransitionEvent } {
  const from = job ? job.state : "New";
  const id = job?.id ?? patch.id ?? "?";
  if (!canTransition(from, to)) throw new IllegalTransition(id, from, to);
  const at = now.toISOString();
  const next = { ...(job as JobRecord), ...patch, state: to, updatedAt: at } as JobRecord;
  if (isFinal(to)) next.finishedAt ??= at;
  return { job: next, event: { jobId: id, from, to, at, reason: patch.reason ?? undefined, attempt: next.attempts?.length || undefined } };
}

export function announce(event: TransitionEvent): void {
  for (const l of listeners) {
    try {
      l(event);
    } catch {
      // A listener's failure must not undo a persisted transition.
    }
  }
}
