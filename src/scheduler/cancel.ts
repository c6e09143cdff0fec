/** Cancels a job (and, for an array, its unfinished children), running what follows (cancelStep.ts says how). */
import { isFinal } from "../jobState.js";
import type { Deps } from "./deps.js";
import { runAll } from "./flow.js";
import { cancelStep, type CancelResult } from "./cancelStep.js";

export type { CancelResult } from "./cancelStep.js";

export async function cancelJob(deps: Deps, jobId: string): Promise<CancelResult> {
  const { result, next } = await cancelStep(deps, jobId);
  if (result.outcome !== "canceling") return result;
  await runAll(deps, next);
  const latest = (await deps.jobs.get(jobId))!.value;
  return { outcome: isFinal(latest.state) ? "canceled" : "canceling", job: latest };
}
