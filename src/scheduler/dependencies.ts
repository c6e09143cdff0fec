/**
 * Dependencies: `dependsOn: [{ job, on: success | completion | failure }]`. A job whose
 * dependencies are not met is stored Waiting with `waitingFor` (the ids left) and is not
 * in its pool's line, so it holds no slot and no budget. It is released — put in the
 * line, or an array made — when the last one is met, and Canceled, with a reason naming
 * the dependency and its final state, when one can never be met; so it never hangs.
 *
 * Each dependency lists its dependents (`dependents`), and the step that ends a job tells
 * them (`endedSteps`, run as the finish step's follow-ups). A submission re-checks after
 * storing the dependent and registering it, so a dependency that ended in between is seen
 * either by that re-check or by the ending job's follow-up. The reconciler re-checks every
 * Waiting job with `waitingFor`, as a safety net.
 *
 * `mode: "n-to-n"` (between two arrays of one count) is not in `waitingFor`: the array
 * makes child i only once the other array's child i has met it (array.ts).
 */
import type { JobRecord, JobState, SpecError } from "../model.js";
import type { JobSpec } from "../jobSpec.js";
import { changeJob, isFinal } from "../jobState.js";
import { lineEntry } from "./lineEntry.js";
import { sendEndEvents } from "../events/emit.js";
import type { Deps } from "./deps.js";
import type { Next } from "./flow.js";

export type Dependency = NonNullable<JobSpec["dependsOn"]>[number];

/** Whether a dependency in `state` meets `on`: undefined while it has not ended. */
export function meets(on: Dependency["on"], state: JobState): boolean | undefined {
  if (!isFinal(state)) return undefined;
  if (on === "completion") return true;
  if (on === "success") return state === "Succeeded";
  return state === "Failed" || state === "TimedOut";
}

/** The dependencies a job waits for as a whole (n-to-n ones are per child). */
export const wholeDependencies = (spec: JobSpec | undefined): Dependency[] => (spec?.dependsOn ?? []).filter((d) => d.mode !== "n-to-n");

const MAX_WALK = 1000;

/**
 * What is wrong with a spec's dependencies, before anything is stored: a job that does
 * not exist, an n-to-n partner that is not an array of the same count, or a cycle
 * (only possible through an id the submission will take, e.g. from an idempotencyKey).
 */
export async function dependencyErrors(deps: Deps, spec: JobSpec, selfId?: string): Promise<SpecError[]> {
  const errors: SpecError[] = [];
  for (const [i, d] of (spec.dependsOn ?? []).entries()) {
    const field = `dependsOn[${i}].job`;
    if (d.job === selfId) {
      errors.push({ field, rule: `would make a cycle: ${selfId} → ${selfId}` });
      continue;
    }
    const other = (await deps.jobs.get(d.job))?.value;
    if (!other) errors.push({ field, rule: `must name an existing job (there is no job ${JSON.stringify(d.job)})` });
    else if (d.mode === "n-to-n" && !other.array) errors.push({ field, rule: `n-to-n needs job ${d.job} to be an array; it is not` });
    else if (d.mode === "n-to-n" && other.array!.count !== spec.array?.count)
      errors.push({
        field,
        rule: `n-to-n needs job ${d.job}'s array count (${other.array!.count}) to equal this one's (${spec.array?.count})`,
      });
  }
  if (selfId && errors.length === 0) {
    const cycle = await findCycle(
      deps,
      selfId,
      (spec.dependsOn ?? []).map((d) => d.job),
    );
    if (cycle) errors.push({ field: "dependsOn", rule: `would make a cycle: ${cycle.join(" → ")}` });
  }
  return errors;
}

/** A path from `selfId` back to itself through stored dependencies, if one exists (bounded walk). */
async function findCycle(deps: Deps, selfId: string, first: string[]): Promise<string[] | undefined> {
  const via = new Map<string, string>(first.map((id) => [id, selfId]));
  const queue = [...first];
  for (let n = 0; queue.length > 0 && n < MAX_WALK; n++) {
    const id = queue.shift()!;
    const job = (await deps.jobs.get(id))?.value;
    for (const d of job?.spec?.dependsOn ?? []) {
      if (d.job === selfId) {
        // `via` leads back from each job to the one that depends on it, up to selfId.
        const path: string[] = [];
        for (let at: string | undefined = id; at && at !== selfId; at = via.get(at)) path.unshift(at);
        return [selfId, ...path, selfId];
      }
      if (!via.has(d.job)) {
        via.set(d.job, id);
        queue.push(d.job);
      }
    }
  }
  return undefined;
}

/** Lists the job among its dependencies' dependents (idempotent), so their ends tell it. */
export async function registerDependent(deps: Deps, job: JobRecord): Promise<void> {
  for (const id of new Set((job.spec?.dependsOn ?? []).map((d) => d.job))) {
    await changeJob(deps, id, (dep) =>
      dep.dependents?.includes(job.id) ? undefined : { ...dep, dependents: [...(dep.dependents ?? []), job.id] },
    );
  }
}

/** What follows a job's end: its array parent hears of it, and its dependents check again. */
export function endedSteps(job: JobRecord): Next[] {
  const steps: Next[] = [];
  if (job.parent) steps.push({ step: "arrayChild", parentId: job.parent.id, index: job.parent.index });
  for (const id of job.dependents ?? []) steps.push({ step: "dependencies", jobId: id }, { step: "array", parentId: id });
  return steps;
}

/** Re-checks a waiting job's dependencies: releases it once all are met, cancels it once one cannot be. */
export async function checkDependencies(deps: Deps, jobId: string): Promise<Next[]> {
  const job = (await deps.jobs.get(jobId))?.value;
  if (!job || job.state !== "Waiting" || !job.waitingFor?.length) return [];
  const left: string[] = [];
  let broken: string | undefined;
  for (const d of wholeDependencies(job.spec)) {
    if (!job.waitingFor.includes(d.job)) continue;
    const state = (await deps.jobs.get(d.job))?.value.state;
    const ok = state ? meets(d.on, state) : false;
    if (ok === undefined) left.push(d.job);
    else if (!ok) {
      broken = `dependency ${d.job} ended ${state ?? "and is gone"} (this job needed its ${d.on})`;
      break;
    }
  }
  if (broken) {
    // Its job.ended is queued before the write (events/emit.ts); this check runs again after a crash.
    if (job.state === "Waiting" && job.waitingFor.length)
      await sendEndEvents(deps, job, { state: "Canceled", reason: `canceled: ${broken}`, costUsd: job.costUsd });
    const r = await changeJob(deps, jobId, (j, move) =>
      j.state === "Waiting" && j.waitingFor?.length
        ? move(j, "Canceled", { reason: `canceled: ${broken}`, waitingFor: undefined })
        : undefined,
    );
    return r?.changed ? endedSteps(r.after) : [];
  }
  if (left.length === job.waitingFor.length) return [];
  const r = await changeJob(deps, jobId, (j) => {
    if (j.state !== "Waiting" || !j.waitingFor?.length) return undefined;
    const still = j.waitingFor.filter((id) => left.includes(id));
    return {
      ...j,
      waitingFor: still.length ? still : undefined,
      reason: still.length ? waitingText(still) : j.array ? `making its ${j.array.count} children` : "waiting for a slot",
    };
  });
  if (!r?.changed || r.after.waitingFor?.length) return [];
  return release(deps, r.after);
}

export const waitingText = (ids: string[]): string => `waiting for its dependencies: ${ids.join(", ")}`;

/** A job whose dependencies are met joins its pool's line (an array parent makes its children instead). */
async function release(deps: Deps, job: JobRecord): Promise<Next[]> {
  if (job.array) return [{ step: "array", parentId: job.id }];
  const pool = deps.config.pools.get(job.pool);
  if (!pool || !job.spec) return [];
  await deps.ledger.addWaiting(pool.name, lineEntry({ ...job, spec: job.spec }, pool));
  return [{ step: "pump", pool: pool.name }];
}
