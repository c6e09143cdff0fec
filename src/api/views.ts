/**
 * What the API shows of a job: its own type, field by field, so that what Burst keeps
 * for its own bookkeeping (the monitor's chain token, poll and log-read times, launch
 * claims, sealed secure values) is never API contract by accident. Lists show a summary,
 * since a record can be hundreds of kilobytes. Both add what only a reader needs: why a
 * waiting job waits, and what a running job has cost so far.
 */
import type { Attempt, JobRecord, LogInfo, SpecError } from "../model.js";
import type { JobSpec } from "../jobSpec.js";
import type { PoolConfig } from "../config.js";
import { billingStart, costUsd, roundUsd } from "../pricing.js";
import type { Waiting } from "./waiting.js";
import { arrayCounts } from "../scheduler/array.js";
import { placementOf } from "../scheduler/pools.js";

export type PublicAttempt = Pick<Attempt,
  "n" | "group" | "launchedAt" | "deferredUntil" | "pullStartedAt" | "startedAt" | "finishedAt" | "stoppedAt" | "exitCode" | "outcome" | "reason"
  | "restartCount" | "billedSeconds" | "costUsd" | "costBasis" | "costErrorSeconds" | "billedUsd" | "billFinal" | "placement" | "refusedBy" | "noCapacity">;

export interface PublicJob {
  id: string;
  name?: string;
  pool: string;
  priority: number;
  labels: Record<string, string>;
  idempotencyKey?: string;
  state: JobRecord["state"];
  reason?: string;
  /** Why a Waiting (or create-throttled Launching) job is not running yet. */
  waiting?: Waiting;
  errors?: SpecError[];
  createdAt: string;
  updatedAt: string;
  spec?: JobSpec & { secureEnvNames?: string[] };
  specDigest?: string;
  attempts: PublicAttempt[];
  platformFailures: number;
  ownFailures: number;
  /** A cancel was asked for and is under way. */
  canceling?: boolean;
  /** A retry waits until then. */
  notBefore?: string;
  log: LogInfo;
  /** Burst's estimate: final once the job ends; while an attempt runs, it includes that attempt so far (`costRunning`). */
  costUsd: number;
  costRunning?: boolean;
  billedUsd?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  source?: Record<string, string | number>;
  address?: JobRecord["address"];
  /** An array parent: its children's counts per state, the failed indexes and the roll-ups (costUsd above is their total). */
  array?: ArrayView;
  /** An array child: its parent and index. */
  parent?: JobRecord["parent"];
}

export interface ArrayView {
  count: number;
  created: number;
  counts: ReturnType<typeof arrayCounts>["counts"];
  failedIndexes: number[];
  billedSeconds: number;
}

function arrayView(job: JobRecord): ArrayView | undefined {
  if (!job.array) return undefined;
  const { counts, failedIndexes } = arrayCounts(job.array, ["Succeeded", "Failed", "TimedOut", "Canceled"].includes(job.state));
  return { count: job.array.count, created: job.array.created, counts, failedIndexes, billedSeconds: job.array.billedSeconds };
}

/** A running attempt's cost so far, as ACI bills it (an upper bound, as the final one is). */
function liveCost(job: JobRecord, pool: PoolConfig | undefined, now: Date): number | undefined {
  const a = job.attempts.at(-1);
  if (!pool || !job.spec || job.state !== "Running" || !a || a.costUsd !== undefined) return undefined;
  const start = billingStart({ pullEvent: a.pullStartedAt, acceptedAt: a.acceptedAt ?? a.launchedAt, startedAt: a.startedAt, stoppedAt: now.toISOString() });
  if (!start) return undefined;
  return costUsd(Math.max(0, Math.ceil((now.getTime() - start.startMs) / 1000)), job.spec.cpu, job.spec.memoryGb, placementOf(pool, a).prices);
}

export function publicJob(job: JobRecord, extra: { pool?: PoolConfig; now: Date; waiting?: Waiting }): PublicJob {
  const live = liveCost(job, extra.pool, extra.now);
  return {
    id: job.id, name: job.name, pool: job.pool, priority: job.priority, labels: job.labels, idempotencyKey: job.idempotencyKey,
    state: job.state, reason: job.reason, waiting: extra.waiting, errors: job.errors, createdAt: job.createdAt, updatedAt: job.updatedAt,
    spec: job.spec, specDigest: job.specDigest,
    attempts: job.attempts.map((a) => ({
      n: a.n, group: a.group, launchedAt: a.launchedAt, deferredUntil: a.deferredUntil, pullStartedAt: a.pullStartedAt, startedAt: a.startedAt,
      finishedAt: a.finishedAt, stoppedAt: a.stoppedAt, exitCode: a.exitCode, outcome: a.outcome, reason: a.reason, restartCount: a.restartCount,
      billedSeconds: a.billedSeconds, costUsd: a.costUsd, costBasis: a.costBasis, costErrorSeconds: a.costErrorSeconds, billedUsd: a.billedUsd, billFinal: a.billFinal,
      placement: a.placement, refusedBy: a.refusedBy, noCapacity: a.noCapacity,
    })),
    platformFailures: job.platformFailures, ownFailures: job.ownFailures,
    canceling: job.cancelRequested && !["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"].includes(job.state) ? true : undefined,
    notBefore: job.notBefore, log: job.log,
    costUsd: live === undefined ? job.costUsd : roundUsd(job.costUsd + live), costRunning: live === undefined ? undefined : true,
    billedUsd: job.billedUsd, exitCode: job.exitCode, startedAt: job.startedAt, finishedAt: job.finishedAt, source: job.source, address: job.address,
    array: arrayView(job), parent: job.parent,
  };
}

export interface JobSummary {
  id: string;
  name?: string;
  pool: string;
  state: JobRecord["state"];
  reason?: string;
  waiting?: Waiting;
  image?: string;
  priority: number;
  labels: Record<string, string>;
  attemptCount: number;
  exitCode?: number;
  costUsd: number;
  costRunning?: boolean;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export function jobSummary(job: JobRecord, extra: { pool?: PoolConfig; now: Date; waiting?: Waiting }): JobSummary {
  const p = publicJob(job, extra);
  return {
    id: p.id, name: p.name, pool: p.pool, state: p.state, reason: p.reason, waiting: p.waiting, image: job.spec?.image,
    priority: p.priority, labels: p.labels, attemptCount: p.attempts.length, exitCode: p.exitCode,
    costUsd: p.costUsd, costRunning: p.costRunning, createdAt: p.createdAt, startedAt: p.startedAt, finishedAt: p.finishedAt,
  };
}
