/**
 * The launch claim: the write that makes its writer an attempt's one launcher. Shared by
 * the pump, which claims as it admits, and launch.ts, which claims what a pump left
 * admitted or takes over a claim whose launcher died.
 */
import type { Attempt, JobRecord } from "../model.js";
import type { Move } from "../jobState.js";
import type { Deps } from "./deps.js";
import { groupName } from "./ids.js";
import { poolOf } from "./pools.js";
import { notifies } from "./pollDecision.js";

/**
 * Claims a job's next attempt: Admitted (through it, from Waiting, when `job` still waits)
 * to Launching, with the attempt's launch claim taken now. Inside a change (changeJob),
 * so the claim is the ETag-guarded write that makes its writer the attempt's one launcher.
 */
export function claimAttempt(deps: Deps, job: JobRecord, move: Move, now: Date, admittedHow?: Partial<JobRecord>): JobRecord {
  const admitted = job.state === "Waiting" ? move(job, "Admitted", admittedHow) : job;
  const n = admitted.attempts.length + 1;
  const at = now.toISOString();
  const reportsExit = notifies(job, poolOf(deps, job.pool)) && deps.exitReports !== undefined;
  const attempt: Attempt = {
    n,
    group: groupName(job.id, n),
    launchedAt: at,
    claimedAt: at,
    acceptedAt: at,
    ...(reportsExit ? { reportsExit } : {}),
  };
  return move(admitted, "Launching", { attempts: [...admitted.attempts, attempt], reason: "creating the container group" });
}
