/** Job ids and container group names. Ids are lowercase letters and digits only, so they are safe in names and paths. */
import { createHash, randomBytes } from "node:crypto";
import type { GroupRef } from "../aci/backend.js";
import type { JobRecord } from "../model.js";
import type { Deps } from "./deps.js";
import { placementOf, poolOf } from "./pools.js";

const hash = (s: string, n: number) => BigInt(`0x${createHash("sha256").update(s).digest("hex").slice(0, 24)}`).toString(36).padStart(n, "0").slice(0, n);

/** A new id for an HTTP submission: time-ordered, then random. */
export function newJobId(now: Date): string {
  return `j${now.getTime().toString(36)}${BigInt(`0x${randomBytes(8).toString("hex")}`).toString(36).slice(0, 10).padStart(10, "0")}`;
}

/** The id for a queue message: the same message (redelivered) always maps to the same job. */
export function jobIdForMessage(messageId: string, insertedAt: Date): string {
  return `j${insertedAt.getTime().toString(36)}${hash(`msg:${messageId}`, 10)}`;
}

/** The id for an idempotency key: resubmitting with the key finds the existing job. */
export function jobIdForKey(pool: string, key: string): string {
  return `k${hash(`key:${pool}:${key}`, 18)}`;
}

/**
 * The id for a key Burst itself derives (a GitHub workflow job's runner): hashed in its own
 * domain, so no idempotencyKey sent to the API or the queue can ever name the same job
 * and take it first.
 */
export function jobIdForInternalKey(pool: string, key: string): string {
  return `k${hash(`internal:${pool}:${key}`, 18)}`;
}

/** Deterministic per attempt, so a redelivered launch finds the group instead of making another. */
export function groupName(jobId: string, attempt: number): string {
  return `burst-${jobId}-${attempt}`;
}

/** Where an attempt's container group lives: its placement's subscription and resource group. */
export function refFor(deps: Deps, job: JobRecord, attempt: number): GroupRef {
  const p = placementOf(poolOf(deps, job.pool), job.attempts.find((a) => a.n === attempt));
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, name: groupName(job.id, attempt) };
}
