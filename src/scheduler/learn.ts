/**
 * Learned run times at the two ends of a job (durations.ts): at submission, which
 * estimate orders its place in line; when it succeeds, what its shape learns. Both are
 * best-effort: an error the store answers with costs an estimate or a sample, never a job.
 */
import type { JobSpec } from "../jobSpec.js";
import type { JobEstimate, JobRecord } from "../model.js";
import { MAX_SHAPES_PER_POOL, runningSeconds, shapeOf } from "../durations.js";
import type { Deps } from "./deps.js";
import { statusOf } from "../store/tables.js";

/** The job's own hint, else its shape's learned median, else none. */
export async function estimateFor(deps: Deps, pool: string, spec: JobSpec): Promise<JobEstimate> {
  const shape = shapeOf(spec);
  if (spec.expectedSeconds !== undefined) return { source: "hint", seconds: spec.expectedSeconds, shape };
  try {
    const learned = await deps.durations.estimate(pool, shape);
    if (learned) return { source: "learned", seconds: learned.medianSeconds, shape };
  } catch (err) {
    // Storage that does not answer at all fails the job's insert next anyway: fail now, and
    // spare a submission its second round of retries (the message is tried again).
    if (statusOf(err) === undefined) throw err;
    deps.log.warn(
      `pool ${pool}: no learned estimate for shape ${shape} (${(err as Error).message}); the job waits as one without an estimate`,
    );
  }
  return { source: "none", shape };
}

/**
 * Teaches the job's shape the running time of its succeeded attempt, with the error of
 * the estimate the job was ordered by. Called once, by the finish that made it Succeeded.
 */
export async function learnFrom(deps: Deps, job: JobRecord): Promise<void> {
  const attempt = job.attempts.at(-1);
  if (job.state !== "Succeeded" || !job.spec || attempt?.outcome !== "Succeeded") return;
  const seconds = runningSeconds(attempt.startedAt, attempt.finishedAt);
  if (seconds === undefined) return;
  const estimate = job.estimate;
  const shape = estimate?.shape ?? shapeOf(job.spec);
  try {
    const r = await deps.durations.record(
      job.pool,
      shape,
      job.spec.image,
      seconds,
      estimate && estimate.source !== "none" ? estimate.seconds : undefined,
    );
    if (r === "poolFull") warnFull(deps, job.pool, shape);
  } catch (err) {
    deps.log.warn(`job ${job.id}: its run time was not learned (${(err as Error).message})`);
  }
}

/** How often an instance says that a pool learns no new shapes: a pool of unique commands would otherwise say it for every job. */
export const FULL_WARNING_EVERY_MS = 3600_000;
const fullWarnedAt = new WeakMap<Deps, Map<string, number>>();

function warnFull(deps: Deps, pool: string, shape: string): void {
  let warned = fullWarnedAt.get(deps);
  if (!warned) fullWarnedAt.set(deps, (warned = new Map()));
  const now = deps.clock.now().getTime();
  const last = warned.get(pool);
  if (last !== undefined && now - last < FULL_WARNING_EVERY_MS) return;
  warned.set(pool, now);
  deps.log.warn(
    `pool ${pool}: not learning shape ${shape}, nor any other new shape: the pool already has the most shapes kept (${MAX_SHAPES_PER_POOL}); said at most once an hour`,
  );
}
