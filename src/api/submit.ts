/**
 * POST /api/jobs: one spec or a list. Every spec is checked before any job is
 * created, and the waiting lines are checked for room for all of them, so a bad or
 * unwelcome request changes nothing.
 */
import { submitJob } from "../scheduler/submit.js";
import type { Deps } from "../scheduler/deps.js";
import type { JobSpec } from "../jobSpec.js";
import { PoolBusy } from "../errors.js";
import { invalid, json, type ApiRequest, type ApiResponse, type FieldError } from "./http.js";
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

export async function submitJobs(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const body = await readBody(req);
  if (body.values.length === 0) throw invalid("InvalidSpec", [{ field: "(body)", rule: "must hold at least one job spec" }]);
  if (body.values.length > MAX_SPECS_PER_REQUEST) {
    throw invalid("InvalidSpec", [{ field: "(body)", rule: `must hold at most ${MAX_SPECS_PER_REQUEST} job specs per request (got ${body.values.length}); send the rest in another request` }]);
  }
  const specs = checkAll(deps, body.values, body.isList);
  await ensureRoom(deps, specs);

  // One at a time, in the order given, so equal-priority jobs wait in that order.
  const done: Submitted[] = [];
  for (const value of body.values) {
    const r = await submitJob(deps, value);
    done.push({ id: r.job.id, state: r.job.state });
  }
  if (body.isList) return json(202, done);
  return json(202, done[0], { location: `/api/jobs/${done[0]!.id}` });
}
