/**
 * Submission: turns one job spec into a job record in Waiting (or Rejected, with every
 * error named), puts it in its pool's waiting line and pumps the pool. Idempotent: the
 * same message, or the same idempotencyKey, always lands on the same job.
 */
import { capErrors, validateSpec, redactSpec, type JobSpec } from "../jobSpec.js";
import { createHash, createHmac } from "node:crypto";
import type { JobRecord, SpecError } from "../model.js";
import { createJob, isFinal } from "../jobState.js";
import { lineEntry } from "./lineEntry.js";
import { estimateFor } from "./learn.js";
import { applyPool } from "../poolRules.js";
import { seal, SecretKeyMissing, type KeyRing } from "../secrets.js";
import { jobIdForInternalKey, jobIdForKey, newJobId } from "./ids.js";
import { pumpNoWait, runAll } from "./flow.js";
import { expandArray, newArrayProgress } from "./array.js";
import { eventSecretAad } from "../events/cloudEvent.js";
import { eventSecrets, poolEventsSpec } from "../events/spec.js";
import { dependencyErrors, registerDependent, waitingText, wholeDependencies } from "./dependencies.js";
import type { Deps } from "./deps.js";

export interface SubmitOrigin {
  /** Fixed id (queue messages derive it from the message id). */
  jobId?: string;
  /** A key Burst derives itself (see jobIdForInternalKey): same key and pool ⇒ same job. */
  internalKey?: string;
  source?: Record<string, string | number>;
}

export interface SubmitResult {
  job: JobRecord;
  /** False when the submission found an existing job (redelivery or idempotencyKey). */
  created: boolean;
  /** The idempotencyKey found a job made from a different spec: their digests. */
  conflict?: { existingDigest: string; givenDigest: string };
}

/**
 * A digest of what a spec asks for, to tell a repeated submission from a different one
 * under the same idempotencyKey. Secure values go in keyed by the app's secret key (an
 * HMAC), so the digest says nothing about them to anyone without it.
 */
export function specDigest(spec: JobSpec, ring: KeyRing): string {
  const { secureEnv, events, ...rest } = spec;
  const keyed = (v: string) => (ring.current ? createHmac("sha256", ring.current).update(v).digest("hex") : "set");
  const secure = secureEnv && ring.current
    ? Object.fromEntries(Object.entries(secureEnv).sort().map(([k, v]) => [k, keyed(v)]))
    : Object.keys(secureEnv ?? {}).sort();
  // The webhook secret and the Event Grid key, too, go in only keyed.
  const hook = events?.webhook;
  const grid = events?.eventGrid;
  const ev = events && {
    ...events,
    webhook: hook?.secret ? { ...hook, secret: keyed(hook.secret) } : hook,
    eventGrid: grid ? { ...grid, key: keyed(grid.key) } : undefined,
  };
  return createHash("sha256").update(canonicalJson({ ...rest, events: ev, secure })).digest("hex").slice(0, 16);
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

function baseRecord(id: string, now: string): JobRecord {
  return {
    id, pool: "default", priority: 0, labels: {}, state: "Waiting", createdAt: now, updatedAt: now,
    attempts: [], platformFailures: 0, ownFailures: 0, monitorSeq: 0, log: { lines: 0, bytes: 0 }, costUsd: 0,
  };
}

function displayFields(input: unknown): Partial<JobRecord> {
  // Rejected records keep only harmless, well-typed fields for display — never env or secureEnv.
  const o = (input && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const str = (v: unknown, n: number) => (typeof v === "string" ? v.slice(0, n) : undefined);
  return { name: str(o.name, 128), pool: str(o.pool, 32) ?? "default" };
}

async function reject(deps: Deps, id: string, input: unknown, all: SpecError[], reason: string, origin: SubmitOrigin, givenDigest?: string): Promise<SubmitResult> {
  const now = deps.clock.now();
  // Kept small: the record must always be storable, whatever the spec held.
  const errors = capErrors(all);
  reason = reason.length > 2000 ? `${reason.slice(0, 2000)}…` : reason;
  const job = await createJob(deps, "Rejected", { ...baseRecord(id, now.toISOString()), ...displayFields(input), errors, reason, source: origin.source });
  // The job exists (a redelivery, or the same idempotencyKey): it answers, whatever this spec's faults.
  if (!job) return found(deps, (await deps.jobs.get(id))!.value, givenDigest);
  deps.log.warn(`job ${id} rejected: ${reason}`);
  return { job, created: true };
}

export async function submitJob(deps: Deps, input: unknown, origin: SubmitOrigin = {}): Promise<SubmitResult> {
  const now = deps.clock.now();
  const checked = validateSpec(input);
  const fallbackId = origin.jobId ?? newJobId(now);
  if (!checked.ok) {
    return reject(deps, fallbackId, input, checked.errors, `invalid job spec: ${checked.errors.map((e) => `${e.field} ${e.rule}`).join("; ")}`, origin);
  }
  let spec = checked.spec;
  const id = origin.internalKey ? jobIdForInternalKey(spec.pool, origin.internalKey)
    : spec.idempotencyKey ? jobIdForKey(spec.pool, spec.idempotencyKey)
    : fallbackId;

  // The digest is of the spec as the pool completes it, as the API computes it too.
  const pooled = applyPool(checked.spec, deps.config.pools, deps.config.secrets);
  const digest = specDigest(pooled.ok ? pooled.spec : spec, deps.config.secrets);
  const givenDigest = spec.idempotencyKey && !origin.internalKey ? digest : undefined;
  // No read first: a job that exists already (a redelivery, the same idempotencyKey) refuses
  // the insert, and answers then. Submissions are mostly new, so this saves a read per job.

  if (!pooled.ok) {
    return reject(deps, id, input, pooled.errors, `not accepted in pool ${JSON.stringify(spec.pool)}: ${pooled.errors.map((e) => `${e.field} ${e.rule}`).join("; ")}`, origin, givenDigest);
  }
  const { pool } = pooled;
  spec = pooled.spec;
  const depErrors = await dependencyErrors(deps, spec, id);
  if (depErrors.length > 0) {
    return reject(deps, id, input, depErrors, `dependsOn not accepted: ${depErrors.map((e) => `${e.field} ${e.rule}`).join("; ")}`, origin, givenDigest);
  }
  const waitingFor = [...new Set(wholeDependencies(spec).map((d) => d.job))];
  let sealed: string | undefined;
  if (spec.secureEnv && Object.keys(spec.secureEnv).length > 0) {
    try {
      sealed = seal(spec.secureEnv, deps.config.secrets, id);
    } catch (err) {
      if (!(err instanceof SecretKeyMissing)) throw err;
      return reject(deps, id, input, [{ field: "secureEnv", rule: err.message }], err.message, origin, givenDigest);
    }
  }

  const estimate = await estimateFor(deps, pool.name, spec);
  // The webhook's secret and the Event Grid key, sealed the same way, bound to this job and to this use.
  const eventSecret = eventSecrets(spec.events);
  const sealedEventSecret = Object.keys(eventSecret).length && deps.config.secrets.current ? seal(eventSecret, deps.config.secrets, eventSecretAad(id)) : undefined;

  // A job that asks for no events gets its pool's, whose secrets stay in the app settings (deliver.ts reads them from config).
  // A pool that asks only for pool events (budget.threshold) gives its jobs none.
  const poolEvents = !spec.events && pool.events ? poolEventsSpec(pool.events) : undefined;

  const job = await createJob(deps, "Waiting", {
    ...baseRecord(id, now.toISOString()),
    name: spec.name, pool: pool.name, priority: spec.priority, labels: spec.labels, idempotencyKey: spec.idempotencyKey,
    spec: redactSpec(poolEvents ? { ...spec, events: poolEvents } : spec), eventsFromPool: poolEvents ? true : undefined,
    specDigest: digest, estimate, sealedSecureEnv: sealed, sealedEventSecret, source: origin.source,
    reason: waitingFor.length ? waitingText(waitingFor) : spec.array ? `making its ${spec.array.count} children` : "waiting for a slot",
    waitingFor: waitingFor.length ? waitingFor : undefined,
    array: spec.array ? newArrayProgress(spec.array.count) : undefined,
  }, (created) => resumeSubmission(deps, created));
  if (!job) {
    // The job exists (a redelivery, the same idempotencyKey, a concurrent submission): that one stands.
    return found(deps, (await deps.jobs.get(id))!.value, givenDigest);
  }
  return { job, created: true };
}

/** An existing job answers the submission; under an idempotencyKey, a different spec is a conflict, not a repeat. */
async function found(deps: Deps, job: JobRecord, givenDigest: string | undefined): Promise<SubmitResult> {
  await resumeSubmission(deps, job);
  if (givenDigest && job.specDigest && job.specDigest !== givenDigest) {
    deps.log.warn(`job ${job.id}: a submission reused its idempotencyKey with a different spec (digest ${givenDigest}, the job's ${job.specDigest}); the job stands as it was`);
    return { job, created: false, conflict: { existingDigest: job.specDigest, givenDigest } };
  }
  return { job, created: false };
}

/**
 * Puts a Waiting job in its pool's line (harmless if it is there, or if it was admitted
 * meanwhile: the pump drops stale entries) and pumps the pool. Safe to repeat, which is
 * what makes a crash between creating the record and queueing it harmless.
 */
export async function resumeSubmission(deps: Deps, job: JobRecord): Promise<void> {
  if (job.spec?.dependsOn?.length && !isFinal(job.state)) {
    // Registered first, then checked: a dependency that ends in between is seen by this check or tells the job itself.
    await registerDependent(deps, job);
    if (job.waitingFor?.length) {
      await runAll(deps, [{ step: "dependencies", jobId: job.id }]);
      return;
    }
  }
  if (job.array) {
    // An array parent never waits in the line itself: its children do (array.ts).
    if (!isFinal(job.state)) await runAll(deps, await expandArray(deps, job.id));
    return;
  }
  if (job.state !== "Waiting" || !job.spec) return;
  const pool = deps.config.pools.get(job.pool);
  if (!pool) return;
  await deps.ledger.addWaiting(pool.name, lineEntry({ ...job, spec: job.spec }, pool));
  await pumpNoWait(deps, pool.name);
}
