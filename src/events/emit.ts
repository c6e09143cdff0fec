/**
 * The outbox step for completion events: each event, once per sink, goes to the events
 * queue BEFORE the write that makes it true. A crash after the send and before the write
 * leaves the job in the state that resumes this step (Finishing is resumed by its message
 * and by the reconciler), which sends the same events again with the same ids; a crash
 * after the write finds them queued already. Either way none is lost, and a receiver
 * deduplicates by id.
 */
import type { JobRecord, JobState } from "../model.js";
import type { Deps } from "../scheduler/deps.js";
import { endEvents } from "./cloudEvent.js";
import { SINKS } from "./spec.js";

export function eventSource(deps: Pick<Deps, "config">, pool: string): string {
  return `/burst/${deps.config.deploymentId}/pools/${pool}`;
}

/** Queues the events `job` asked for on entering `next`; nothing when it asked for none. */
export async function sendEndEvents(
  deps: Deps,
  job: JobRecord,
  next: { state: JobState; reason?: string; costUsd: number },
): Promise<void> {
  const ev = job.spec?.events;
  if (!ev) return;
  const sinks = SINKS.filter((s) => ev[s]);
  for (const event of endEvents(job, next, eventSource(deps, job.pool))) {
    for (const sink of sinks) await deps.outbox.send("events", { jobId: job.id, sink, try: 1, event });
  }
}
