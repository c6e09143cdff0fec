/**
 * Completion. `toFinishing` records how an attempt ended — outcome, exit code, times,
 * and its cost as ACI bills it — in the same write that moves the job to Finishing.
 * `finishJob` then does the cleanup, each step safe to repeat after a crash: delete the
 * group, settle the slot and reservation to the actual cost, and decide: done, or
 * another attempt after a backoff. Last, it pumps the pool so the freed slot is handed
 * on at once.
 */
import type { Attempt, AttemptOutcome, JobRecord, JobState, LogInfo } from "../model.js";
import { changeJob, isFinal } from "../jobState.js";
import { billedSeconds, billingStart, costUsd, roundUsd } from "../pricing.js";
import { retryBackoffSeconds } from "../retryBackoff.js";
import { lineEntry } from "./lineEntry.js";
import type { Deps } from "./deps.js";
import { holderKey, placementOf, poolOf } from "./pools.js";
import { refFor } from "./ids.js";
import type { Next } from "./flow.js";
import { endedSteps } from "./dependencies.js";
import { learnFrom } from "./learn.js";
import { sendEndEvents } from "../events/emit.js";
import { sendBudgetEvents } from "../events/poolEvents.js";

export interface AttemptEnd {
  outcome: AttemptOutcome;
  reason: string;
  exitCode?: number;
  pullStartedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** When billing stopped; without it, the attempt never reached ACI and costs nothing. */
  stoppedAt?: string;
  restartCount?: number;
  /** Log lines copied by the poll that noticed the end, recorded in the same write. */
  log?: Captured;
  /** ACI accepted the create, then found no capacity (an async refusal): the next attempt goes elsewhere and no retry is counted. */
  noCapacity?: boolean;
  /** What made that poll happen (only for ends a poll noticed). */
  detectedBy?: "poll" | "report";
  /** When the end was seen (the read that showed it); else when it is recorded. */
  detectedAt?: string;
}

/** What one log capture stored. */
export interface Captured {
  lines: number;
  bytes: number;
  /** ACI had dropped lines Burst never saw. */
  gap: boolean;
}

export function addCaptured(log: LogInfo, c: Captured | undefined): LogInfo {
  if (!c || (c.lines === 0 && !c.gap)) return log;
  return { lines: log.lines + c.lines, bytes: log.bytes + c.bytes, truncated: log.truncated || c.gap || undefined };
}

/** The attempt's cost as an upper bound on ACI's bill, with how it was found (see billingStart). */
export function attemptCost(job: JobRecord, attempt: Attempt, end: AttemptEnd, deps: Deps): Pick<Attempt, "billedSeconds" | "costUsd" | "costBasis" | "costErrorSeconds"> {
  if (!end.stoppedAt || !job.spec) return { billedSeconds: 0, costUsd: 0 };
  const start = billingStart({
    pullEvent: end.pullStartedAt ?? attempt.pullStartedAt,
    acceptedAt: attempt.acceptedAt ?? attempt.launchedAt,
    startedAt: end.startedAt ?? attempt.startedAt,
    stoppedAt: end.stoppedAt,
  });
  if (start === undefined) return { billedSeconds: 0, costUsd: 0 };
  const seconds = billedSeconds(start.startMs, Date.parse(end.stoppedAt));
  // At the prices of where it ran: a Spot attempt costs Spot's.
  const prices = placementOf(poolOf(deps, job.pool), attempt).prices;
  return { billedSeconds: seconds, costUsd: costUsd(seconds, job.spec.cpu, job.spec.memoryGb, prices), costBasis: start.basis, costErrorSeconds: Math.min(seconds, start.errorSeconds) };
}

/** Records the attempt's end and moves the job to Finishing; a no-op if that already happened. */
export async function toFinishing(deps: Deps, jobId: string, attemptN: number, end: AttemptEnd): Promise<void> {
  const now = deps.clock.now();
  await changeJob(deps, jobId, (job, move) => {
    const current = job.attempts.at(-1);
    // Another poll ended the attempt first; the lines this one stored still count.
    if (!current || current.n !== attemptN || !(job.state === "Launching" || job.state === "Running" || job.state === "Admitted")) return countOnly(job, end.log);
    const cost = attemptCost(job, current, end, deps);
    const attempt: Attempt = {
      ...current,
      outcome: end.outcome, reason: end.reason, exitCode: end.exitCode,
      pullStartedAt: end.pullStartedAt ?? current.pullStartedAt, startedAt: end.startedAt ?? current.startedAt,
      finishedAt: end.finishedAt ?? now.toISOString(), stoppedAt: end.stoppedAt, detectedAt: end.detectedAt ?? now.toISOString(), detectedBy: end.detectedBy,
      restartCount: end.restartCount ?? current.restartCount,
      noCapacity: end.noCapacity || undefined,
      ...cost,
    };
    return move(job, "Finishing", { attempts: [...job.attempts.slice(0, -1), attempt], reason: end.reason, log: addCaptured(job.log, end.log) });
  });
}

/**
 * Only the log counts of what a capture stored, for a capture whose own change lost a
 * race: the lines are in the log, so the record must count them (or nothing to do).
 */
export function countOnly(job: JobRecord, captured: Captured | undefined): JobRecord | undefined {
  const log = addCaptured(job.log, captured);
  return log === job.log ? undefined : { ...job, log };
}

function finalStateFor(outcome: AttemptOutcome): JobState {
  return outcome === "PlatformError" ? "Failed" : outcome;
}

/** Async capacity refusals a job may move on from without counting them as platform failures. */
export const MAX_CAPACITY_MOVES = 10;

/** What a Finishing job becomes, pure: another attempt (Waiting) or its final state, with its counts and cost. */
export function decideEnd(j: JobRecord, maxPlatformRetries: number) {
  const a = j.attempts.at(-1)!;
  const costUsd = roundUsd(j.attempts.reduce((s, x) => s + (x.costUsd ?? 0), 0));
  const own = a.outcome === "Failed" && a.exitCode !== undefined;
  // A capacity refusal moves the job to another placement without counting, up to a bound, so a job whose every placement keeps refusing still ends.
  const moved = a.noCapacity === true && j.attempts.filter((x) => x.noCapacity).length <= MAX_CAPACITY_MOVES;
  const platform = a.outcome === "PlatformError" && !moved;
  const ownFailures = j.ownFailures + (own ? 1 : 0);
  const platformFailures = j.platformFailures + (platform ? 1 : 0);
  const canRetry = !j.cancelRequested && (moved || (own && ownFailures <= (j.spec?.retries ?? 0)) || (platform && platformFailures <= maxPlatformRetries));
  const state: JobState = canRetry ? "Waiting" : j.cancelRequested && a.outcome !== "Succeeded" ? "Canceled" : finalStateFor(a.outcome!);
  return { state, own, moved, ownFailures, platformFailures, costUsd };
}

/** Deletes the group, settles the slot and ends (or retries) the job; the pool's pump follows, to hand the slot on. */
export async function finishJob(deps: Deps, jobId: string): Promise<Next[]> {
  // A Finishing version this process remembers (the one the poll just wrote) is a starting point: every step below is
  // idempotent, and the final write is ETag-guarded. Anything else is read: a "nothing to do" must be fresh.
  const remembered = deps.jobs.recent?.(jobId);
  const got = remembered?.value.state === "Finishing" ? remembered : await deps.jobs.get(jobId);
  if (!got || got.value.state !== "Finishing") {
    // A repeat after a crash: its parent and dependents may not have heard of the end yet (both are idempotent).
    return got && isFinal(got.value.state) ? endedSteps(got.value) : [];
  }
  const job = got.value;
  const attempt = job.attempts.at(-1)!;
  const pool = poolOf(deps, job.pool);

  const placement = attempt.placement ? placementOf(pool, attempt) : undefined;
  // ACI's delete windows bind as its create windows do: wait for room rather than for a 429.
  // The group keeps its slot and quota until it is gone; a monitor message brings the job back here.
  if (placement) {
    const room = await deps.placements.reserveDelete(placement, holderKey(job.id, attempt.n), deps.clock.now());
    if (!room.ok) {
      await deps.outbox.send("monitor", { jobId, attempt: attempt.n, seq: job.monitorSeq }, Math.max(1, (room.retryAt - deps.clock.now().getTime()) / 1000));
      return [];
    }
  }
  await deps.aci.delete(refFor(deps, job, attempt.n));
  if (attempt.noCapacity && placement) await deps.placements.refused(placement, "capacity (provisioning failed: InsufficientCapacity)", deps.clock.now());
  // The group is gone: its room in the placement goes back (every placement's, for an attempt that held room but recorded none).
  if (placement) await deps.placements.release(placement, holderKey(job.id, attempt.n), { deletedAt: deps.clock.now() });
  else for (const p of pool.placements) await deps.placements.release(p, holderKey(job.id, attempt.n));
  await deps.ledger.settle(pool.name, job.id, attempt.n, attempt.costUsd ?? 0, attempt.billedSeconds ?? 0, deps.clock.now(), attempt.outcome === "Succeeded");
  // The spend just settled may cross a budget threshold the pool asked to hear of (events/poolEvents.ts).
  await sendBudgetEvents(deps, pool, deps.clock.now());

  // The events are decided and queued before the write that makes them true (events/emit.ts).
  const decided = decideEnd(job, pool.maxPlatformRetries);
  await sendEndEvents(deps, job, { state: decided.state, reason: attempt.reason, costUsd: decided.costUsd });

  const now = deps.clock.now();
  let retryAt: string | undefined;
  let stale = false;
  const r = await changeJob(deps, jobId, (j, move) => {
    if (j.state !== "Finishing") return undefined;
    const a = j.attempts.at(-1)!;
    const d = decideEnd(j, pool.maxPlatformRetries);
    // A cancel came in since the events were queued: decide (and queue) again.
    if (d.state !== decided.state) {
      stale = true;
      return undefined;
    }
    const common = { costUsd: d.costUsd, exitCode: a.exitCode, startedAt: j.startedAt ?? a.startedAt, ownFailures: d.ownFailures, platformFailures: d.platformFailures };
    if (d.state === "Waiting") {
      const wait = d.moved ? 1 : retryBackoffSeconds(d.own ? d.ownFailures : d.platformFailures);
      retryAt = new Date(now.getTime() + wait * 1000).toISOString();
      return move(j, "Waiting", {
        ...common, notBefore: retryAt,
        reason: `attempt ${a.n} ${d.own ? `exited with ${a.exitCode}` : d.moved ? "found no capacity in its placement" : "hit a platform failure"}; retrying after ${Math.round(wait)} s (${a.reason})`,
      });
    }
    return move(j, d.state, { ...common, reason: a.reason });
  });
  if (stale) return finishJob(deps, jobId);
  if (r?.changed) {
    deps.log.info(`job ${jobId}: ${r.after.state} (${r.after.reason ?? ""}) cost $${r.after.costUsd}`);
    if (r.after.state === "Waiting" && r.after.spec) {
      await deps.ledger.addWaiting(pool.name, lineEntry({ ...r.after, spec: r.after.spec }, pool, retryAt));
      await deps.outbox.send("pump", { pool: pool.name }, (Date.parse(retryAt!) - now.getTime()) / 1000);
    }
    // Only the finish whose write made the job Succeeded learns from it: a repeat does not count it twice.
    await learnFrom(deps, r.after);
  }
  const after: Next[] = [{ step: "pump", pool: pool.name }];
  // An array child's parent, and the jobs that depend on this one, hear of its end.
  if (r && isFinal(r.after.state)) after.push(...endedSteps(r.after));
  return after;
}
