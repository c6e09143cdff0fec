/**
 * What the API shows of a job. The record is shown whole except `sealedSecureEnv`:
 * even sealed, secure values stay inside Burst (the spec already keeps only their
 * names). Lists show a summary, since a record can be hundreds of kilobytes.
 */
import type { JobRecord } from "../model.js";

export type PublicJob = Omit<JobRecord, "sealedSecureEnv">;

export function publicJob(job: JobRecord): PublicJob {
  const { sealedSecureEnv: _sealed, ...rest } = job;
  return rest;
}

export interface JobSummary {
  id: string;
  name?: string;
  pool: string;
  state: JobRecord["state"];
  reason?: string;
  image?: string;
  priority: number;
  labels: Record<string, string>;
  attemptCount: number;
  exitCode?: number;
  costUsd: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export function jobSummary(job: JobRecord): JobSummary {
  return {
    id: job.id, name: job.name, pool: job.pool, state: job.state, reason: job.reason, image: job.spec?.image,
    priority: job.priority, labels: job.labels, attemptCount: job.attempts.length, exitCode: job.exitCode,
    costUsd: job.costUsd, createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt,
  };
}
