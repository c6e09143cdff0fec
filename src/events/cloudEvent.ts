/**
 * Completion events as CloudEvents 1.0 (structured JSON mode), decided from a job record
 * alone, so a step that is repeated after a crash decides the same events with the same
 * ids: the id is a hash of (job, attempt, type), which is what receivers deduplicate by.
 *
 * Spec: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md and its JSON
 * format (json-format.md): specversion, id, source, type required; time, subject,
 * datacontenttype optional; `data` a JSON value.
 */
import { createHash } from "node:crypto";
import type { JobRecord, JobState } from "../model.js";
import type { EventType } from "./spec.js";
import type { BudgetThresholdData, PoolBlockedData } from "./poolEvents.js";

/** Event types on the wire, reverse-DNS as CloudEvents recommends. */
export const CLOUD_EVENT_TYPE: Record<EventType, string> = {
  "job.ended": "com.burst.job.ended",
  "attempt.failed": "com.burst.attempt.failed",
};

export interface EventData {
  jobId: string;
  name?: string;
  pool: string;
  labels: Record<string, string>;
  /** job.ended: the final state; attempt.failed: the state the job goes to (Waiting, for a retry). */
  state: JobState;
  reason?: string;
  attempt?: number;
  exitCode?: number;
  /** The job's cost so far, USD (every attempt). */
  costUsd: number;
  /** attempt.failed: the attempt's own cost, USD. */
  attemptCostUsd?: number;
}

export interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: "application/json";
  /** A job's events carry EventData; a pool's, their own (events/poolEvents.ts). */
  data: EventData | BudgetThresholdData | PoolBlockedData;
}

/** The sealed events secrets' associated data (webhook secret and Event Grid key; the name predates the key and stays, so records sealed before still open): bound to the job that sealed it, and to this use. */
export function eventSecretAad(jobId: string): string {
  return `${jobId}#events.webhook.secret`;
}

export function eventId(jobId: string, attempt: number, type: EventType): string {
  return createHash("sha256").update(`${jobId}\n${attempt}\n${type}`).digest("hex").slice(0, 32);
}

/**
 * The events a job asked for, given the state the Finishing job is about to enter (`next`)
 * and the cost it will have then. `time` is when the attempt ended, so a repeat gives the
 * same event byte for byte.
 */
export function endEvents(job: JobRecord, next: { state: JobState; reason?: string; costUsd: number }, source: string): CloudEvent[] {
  const wanted = job.spec?.events?.types ?? [];
  const a = job.attempts.at(-1);
  const n = a?.n ?? 0;
  const time = a?.finishedAt ?? a?.detectedAt ?? job.updatedAt;
  const base = {
    jobId: job.id,
    name: job.name,
    pool: job.pool,
    labels: job.labels,
    state: next.state,
    reason: next.reason,
    costUsd: next.costUsd,
  };
  const out: CloudEvent[] = [];
  const make = (type: EventType, data: EventData): CloudEvent => ({
    specversion: "1.0",
    id: eventId(job.id, n, type),
    source,
    type: CLOUD_EVENT_TYPE[type],
    time,
    subject: `jobs/${job.id}`,
    datacontenttype: "application/json",
    data,
  });
  if (wanted.includes("attempt.failed") && a && a.outcome !== undefined && a.outcome !== "Succeeded") {
    out.push(make("attempt.failed", { ...base, attempt: n, exitCode: a.exitCode, reason: a.reason, attemptCostUsd: a.costUsd ?? 0 }));
  }
  if (wanted.includes("job.ended") && next.state !== "Waiting") {
    out.push(make("job.ended", { ...base, ...(a ? { attempt: n, exitCode: a.exitCode } : {}) }));
  }
  return out;
}
