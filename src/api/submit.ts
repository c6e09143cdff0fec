/**
 * POST /api/jobs: one spec or a list. Every spec is checked before any job is
 * created, and the waiting lines are checked for room for all of them, so a bad or
 * unwelcome request changes nothing.
 */
import { specDigest, submitJob } from "../scheduler/submit.js";
import { dependencyErrors } from "../scheduler/dependencies.js";
import { jobIdForKey } from "../scheduler/ids.js";
import type { Deps } from "../scheduler/deps.js";
import type { JobSpec } from "../jobSpec.js";
import { PoolBusy } from "../errors.js";
import { ApiError, invalid, json, type ApiRequest, type ApiResponse, type FieldError } from "./http.js";
import { MAX_SPECS_PER_REQUEST, readBody } from "./body.js";
import { QueryReader } from "./params.js";
import { atIndex, checkSpec } from "./specCheck.js";

export interface Submitted {
  id: string;
  state: string;
}

/** Checks a list of raw specs; throws one 400 naming every bad field (with its index when `indexed`). */
export function checkAll(deps: Deps, values: unknown[], indexed: boolean): JobSpec[] {
  const errors: FieldError[] = [];
  const specs: JobSpec[] = [];
  values.forEach((v, i) => {
    const c = checkSpec(deps, v);
    if (c.ok) specs.push(c.spec);
    else errors.push(...(indexed ? atIndex(c.errors, i) : c.errors));
  });
  if (errors.length > 0) throw invalid("InvalidSpec", errors);
  return specs;
}

/**
 * Refuses the whole request when a pool's waiting line has no room for its share of
 * it: the line may hold maxWaiting jobs. The line is counted once per pool per request,
 * not once per spec (a count reads the line, and lines can be long), so requests that
 * race each other may together pass maxWaiting by what they hold.
 */
export async function ensureRoom(deps: Deps, specs: JobSpec[]): Promise<void> {
  const perPool = new Map<string, number>();
  for (const s of specs) perPool.set(s.pool, (perPool.get(s.pool) ?? 0) + 1);
  for (const [name, count] of perPool) {
    const pool = deps.config.pools.get(name)!;
    const waiting = await deps.ledger.countWaiting(name, pool.maxWaiting);
    if (waiting + count > pool.maxWaiting) {
      throw new PoolBusy(`pool ${name} has ${waiting} jobs waiting (its maxWaiting is ${pool.maxWaiting}), no room for ${count} more; try again later`);
    }
  }
}

/** 400 before anything is created when a dependsOn names a job that does not exist (or an unfit n-to-n partner, or a cycle). */
export async function ensureDependencies(deps: Deps, specs: JobSpec[], indexed: boolean): Promise<void> {
  const errors: FieldError[] = [];
  for (const [index, spec] of specs.entries()) {
    if (!spec.dependsOn?.length) continue;
    const selfId = spec.idempotencyKey ? jobIdForKey(spec.pool, spec.idempotencyKey) : undefined;
    const found = await dependencyErrors(deps, spec, selfId);
    errors.push(...(indexed ? atIndex(found, index) : found));
  }
  if (errors.length > 0) throw invalid("InvalidSpec", errors);
}

/**
 * 409 before anything is created when an idempotencyKey already made a job from a
 * different spec: the same key with a different request is an error (as with Stripe's
 * idempotency keys), not a silent answer with the old job.
 */
export async function ensureNoConflicts(deps: Deps, specs: JobSpec[], indexed: boolean): Promise<void> {
  for (const [index, spec] of specs.entries()) {
    if (!spec.idempotencyKey) continue;
    const id = jobIdForKey(spec.pool, spec.idempotencyKey);
    const existing = (await deps.jobs.get(id))?.value;
    const given = specDigest(spec, deps.config.secrets);
    if (existing?.specDigest && existing.specDigest !== given) throw conflict(index, indexed, spec.idempotencyKey, id, existing.specDigest, given);
  }
}

function conflict(index: number, indexed: boolean, key: string, id: string, existingDigest: string, givenDigest: string): ApiError {
  return new ApiError(409, "IdempotencyConflict", `${indexed ? `[${index}] ` : ""}idempotencyKey ${JSON.stringify(key)} already made job ${id} from a different spec (digest ${existingDigest}; this one's is ${givenDigest}): use a new key, or send the same spec`,
    [{ id, existingDigest, givenDigest, ...(indexed ? { index } : {}) }]);
}

export async function submitJobs(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const body = await readBody(req);
  if (body.values.length === 0) throw invalid("InvalidSpec", [{ field: "(body)", rule: "must hold at least one job spec" }]);
  if (body.values.length > MAX_SPECS_PER_REQUEST) {
    throw invalid("InvalidSpec", [{ field: "(body)", rule: `must hold at most ${MAX_SPECS_PER_REQUEST} job specs per request (got ${body.values.length}); send the rest in another request` }]);
  }
  const specs = checkAll(deps, body.values, body.isList);
  await ensureDependencies(deps, specs, body.isList);
  await ensureNoConflicts(deps, specs, body.isList);
  await ensureRoom(deps, specs);

  // One at a time, in the order given, so equal-priority jobs wait in that order.
  const done: Submitted[] = [];
  for (const [index, value] of body.values.entries()) {
    const r = await submitJob(deps, value);
    // A concurrent request took the key in between: still an error, naming what was done.
    if (r.conflict) throw conflict(index, body.isList, (value as { idempotencyKey: string }).idempotencyKey, r.job.id, r.conflict.existingDigest, r.conflict.givenDigest);
    done.push({ id: r.job.id, state: r.job.state });
  }
  if (body.isList) return json(202, done);
  return json(202, done[0], { location: `/api/jobs/${done[0]!.id}` });
}
