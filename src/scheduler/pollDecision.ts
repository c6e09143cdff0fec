/**
 * What one poll of a running job decides, given what ACI showed: pure, so every case is
 * unit-tested without a group (monitor.ts does the reads and writes around it).
 *
 * - `end`: the attempt is over (its group is gone, failed to provision, or its container
 *   terminated); record the end, after copying the last log lines when there are any.
 * - `stop`: Burst must stop it (a cancel, the timeout, the cost cap), then record the end.
 * - `watch`: it goes on; read the log if due, and schedule the next poll (nextPoll).
 */
import type { JobRecord } from "../model.js";
import type { PoolConfig } from "../config.js";
import type { GroupView } from "../aci/backend.js";
import { effectiveLimitSeconds } from "../pricing.js";
import { logReadDelaySeconds, pollDelaySeconds, readBudgetFloorSeconds } from "../polling.js";
import type { AttemptEnd, Captured } from "./finish.js";

const STOPPED_STATES = new Set(["Succeeded", "Failed", "Stopped"]);

export interface PollInput {
  job: JobRecord;
  /** The group as ACI shows it; undefined when it does not exist. */
  view: GroupView | undefined;
  pool: PoolConfig;
  now: Date;
}

export type PollDecision =
  | { kind: "end"; end: AttemptEnd; readLog: boolean }
  | { kind: "stop"; outcome: "Canceled" | "TimedOut"; reason: string; readLogFirst: boolean }
  /** `logDue`: the log's turn has come (it is read once the container has started: `readLog`). */
  | { kind: "watch"; logDue: boolean; readLog: boolean; provisioning: boolean; restarted: boolean };

/** When the attempt must end: its timeout, or the moment its cost cap would be passed. */
export function deadlineOf(job: JobRecord, pool: PoolConfig): { at?: number; why?: string } {
  const launched = Date.parse(job.attempts.at(-1)?.launchedAt ?? job.updatedAt);
  const limit = effectiveLimitSeconds(job.spec!, pool.prices);
  if (limit === undefined) return {};
  const byTimeout = job.spec!.timeoutSeconds !== undefined && limit === job.spec!.timeoutSeconds;
  return { at: launched + limit * 1000, why: byTimeout ? `timeoutSeconds (${job.spec!.timeoutSeconds} s) reached` : `maxCostUsd ($${job.spec!.maxCostUsd}) reached` };
}

/**
 * When a group that is found ended, or gone, stopped costing: the finish time ACI reports,
 * else the last poll that saw it alive — never the moment Burst noticed. After downtime (a
 * restarted `npm start`, hosts that were all away) the noticing comes late, and billing up
 * to it charged the whole gap (41 s for a job that ran 6). For a group deleted between
 * polls this may fall short of ACI's meter by up to one poll interval plus the
 * POLL_REFRESH_SECONDS a quiet poll may leave `lastPolledAt` unwritten (monitor.ts); the true-up from
 * Cost Management (trueUp.ts) then records the real bill, and budgets count the larger.
 */
function lastAlive(job: JobRecord, view: GroupView | undefined, now: Date): string {
  return view?.finishTime ?? job.lastPolledAt ?? now.toISOString();
}

/**
 * A group stopped by someone other than Burst (`az container stop`, the portal) ends its
 * job Failed and is not retried: the only stop ACI records without an exit code is a
 * client's ("Container stopped per client request"), someone with write access to the
 * resource group asked for it, and a retry would start again what they stopped and spend
 * what they meant to save. Neither the job's own retries nor its platform retries count it.
 */
function stoppedOutside(view: GroupView): string {
  return `stopped outside Burst (ACI: ${JSON.stringify(view.detailStatus || "no detail")}); not retried`;
}

/**
 * A Spot eviction, as the emulator shows one: a `SpotEviction` group event, or a container
 * ended with detail `Evicted`. How the live service shows it in the instance view is not
 * documented (see packages/aci-emulator/README.md, "Spot eviction").
 */
function evicted(view: GroupView): boolean {
  return view.events.some((e) => e.name === "SpotEviction") || view.detailStatus === "Evicted";
}

export function endOf(view: GroupView, outcome: AttemptEnd["outcome"], reason: string, stoppedAt: string): AttemptEnd {
  return { outcome, reason, exitCode: view.exitCode, pullStartedAt: view.pullStartedAt, startedAt: view.startTime, finishedAt: view.finishTime ?? stoppedAt, stoppedAt, restartCount: view.restartCount };
}

export function decidePoll({ job, view, pool, now }: PollInput): PollDecision {
  if (!view) {
    // Not the job's fault (someone deleted it, or an emulator kept no state): a platform failure, retried under maxPlatformRetries.
    const seen = lastAlive(job, undefined, now);
    return { kind: "end", readLog: false, end: { outcome: "PlatformError", reason: `the container group disappeared (last seen alive ${seen})`, stoppedAt: seen } };
  }
  if (view.provisioningState === "Failed") {
    // The async capacity refusal reports an event named "InsufficientCapacity." (Azure/ALZ-PowerShell-Module#472, a live
    // operation body). At API 2023-05-01 the instance view usually carries no events at all (see NOTES), so a failure
    // that shows none cannot be told from it and is taken as the placement's too: the next attempt goes elsewhere
    // (bounded by MAX_CAPACITY_MOVES in finish.ts, so a job that keeps failing this way still ends).
    const noCapacity = view.events.some((e) => e.name?.replace(/\.$/, "") === "InsufficientCapacity") || view.events.length === 0 || undefined;
    return {
      kind: "end", readLog: false,
      end: { outcome: "PlatformError", noCapacity, reason: `ACI could not provision the container group (${view.events.at(-1)?.message ?? "no detail"})`, pullStartedAt: view.pullStartedAt, stoppedAt: view.pullStartedAt ? lastAlive(job, view, now) : undefined },
    };
  }
  if (job.attempts.at(-1)!.placement?.endsWith("/Spot") && evicted(view)) {
    // ACI would start it again by itself; Burst ends the attempt instead (a platform failure) so a `preferred` job moves on to Regular.
    // Billing may have resumed before this poll, so the estimate runs until now, an upper bound.
    return { kind: "end", readLog: true, end: endOf(view, "PlatformError", `evicted from Spot (ACI: ${view.detailStatus ?? "SpotEviction"})`, now.toISOString()) };
  }
  const terminated = view.containerState === "Terminated" && STOPPED_STATES.has(view.state ?? "");
  const deadline = deadlineOf(job, pool);
  const overdue = deadline.at !== undefined && now.getTime() >= deadline.at;
  const ours = job.cancelRequested ? { outcome: "Canceled" as const, reason: "canceled" } : overdue ? { outcome: "TimedOut" as const, reason: deadline.why! } : undefined;
  const started = view.containerState !== undefined && view.containerState !== "Waiting";
  if (!terminated && ours) return { kind: "stop", ...ours, readLogFirst: started };
  if (terminated && view.exitCode === undefined && view.state === "Stopped") {
    // Stopped, with no exit code. If Burst had reason to stop it, it did and died before
    // recording so; otherwise someone else did (see stoppedOutside).
    const end = ours ?? { outcome: "Failed" as const, reason: stoppedOutside(view) };
    return { kind: "end", readLog: true, end: endOf(view, end.outcome, end.reason, lastAlive(job, view, now)) };
  }
  if (terminated) {
    // Without an exit code (the platform, or an emulator that stopped, ended it) it is not the job's fault: a platform failure, retried.
    const outcome = view.exitCode === undefined ? "PlatformError" : view.exitCode === 0 ? "Succeeded" : "Failed";
    const reason = view.exitCode === undefined ? `the container group ended ${view.state} without an exit code (${view.detailStatus ?? "no detail"})` : `exited with code ${view.exitCode}`;
    return { kind: "end", readLog: true, end: endOf(view, outcome, reason, lastAlive(job, view, now)) };
  }
  const logDue = !job.nextLogReadAt || now.getTime() >= Date.parse(job.nextLogReadAt);
  return { kind: "watch", logDue, readLog: logDue && started, provisioning: !started, restarted: view.restartCount > (job.attempts.at(-1)!.restartCount ?? 0) };
}

/**
 * Whether an attempt of the job will report its own exit: the job's notifyExit, else its
 * pool's. A job without a command keeps its image's entrypoint, which cannot be wrapped.
 */
export function notifies(job: JobRecord, pool: PoolConfig): boolean {
  return (job.spec?.notifyExit ?? pool.notifyExit) && !!job.spec?.command?.length;
}

/**
 * When to poll next, and when to read the log next, after a `watch` poll whose log turn
 * had come (`logDue`; `captured` is what it stored) or not: polls adapt to ARM's read budget and to
 * the deadline, and a chatty job is polled when its log is due, so ACI's after-stop
 * window never has to hold more than it keeps.
 */
export function nextPoll({ job, view, pool, now }: PollInput, logDue: boolean, captured: Captured): { delaySeconds: number; nextLogAt: number } {
  const attempt = job.attempts.at(-1)!;
  const launched = Date.parse(attempt.launchedAt ?? job.updatedAt);
  const provisioning = view?.containerState === undefined || view.containerState === "Waiting";
  const started = view?.startTime ? Date.parse(view.startTime) : undefined;
  const elapsed = (now.getTime() - (provisioning || !started ? launched : started)) / 1000;
  const deadline = deadlineOf(job, pool);
  const pollDelay = pollDelaySeconds(pool, elapsed, provisioning, deadline.at !== undefined ? (deadline.at - now.getTime()) / 1000 : undefined);
  // A poll that also reads the log costs two reads, so log-driven polls keep to twice the read floor.
  const twoReadFloor = 2 * readBudgetFloorSeconds(pool);
  const lastLogAt = job.lastLogReadAt ? Date.parse(job.lastLogReadAt) : launched;
  const nextLogAt = logDue || !job.nextLogReadAt
    ? now.getTime() + 1000 * logReadDelaySeconds(captured.lines, captured.bytes, (now.getTime() - lastLogAt) / 1000, twoReadFloor)
    : Date.parse(job.nextLogReadAt);
  let delaySeconds = Math.max(Math.min(pollDelay, twoReadFloor), Math.min(pollDelay, (nextLogAt - now.getTime()) / 1000));
  if (attempt.exitReport) {
    // The container said it exited and ARM does not show it yet: look again soon, backing off
    // (0.5, 1, 2, 4… s after the report), so even a report sent too early costs a few reads.
    const sinceReport = (now.getTime() - Date.parse(attempt.exitReport.at)) / 1000;
    delaySeconds = Math.min(delaySeconds, Math.max(0.5, sinceReport));
  } else if (attempt.reportsExit && !provisioning) {
    // The report will say when it ends: polling is only the safety net, but the log and the deadline keep their turns.
    const toDeadline = deadline.at !== undefined ? Math.max(0.2, (deadline.at - now.getTime()) / 1000) : Infinity;
    delaySeconds = Math.max(delaySeconds, Math.min(pool.notifyPollSeconds, toDeadline, (nextLogAt - now.getTime()) / 1000));
  }
  return { delaySeconds, nextLogAt };
}
