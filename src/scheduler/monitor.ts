/**
 * Monitoring: one poll per delayed queue message, so no invocation outlives a poll.
 * A poll reads the group (one ARM read), copies new log lines into the job's append
 * blob when due (another read), enforces the deadline, cost cap and cancellation, and
 * either schedules the next poll or records the attempt's end.
 *
 * The job's `monitorSeq` is the chain token: a poll acts only if its message carries
 * the current value, and bumps it when it schedules the next. Duplicated or
 * redelivered messages therefore never fork the chain into two.
 */
import type { JobRecord } from "../model.js";
import { changeJob } from "../jobState.js";
import { effectiveLimitSeconds } from "../pricing.js";
import { pollDelaySeconds, logReadDelaySeconds, readBudgetFloorSeconds } from "../polling.js";
import { formatLines, mayBeCutAfterStop, newLinesSince, parseTimestamped } from "../logCursor.js";
import { CONTAINER_NAME } from "../aci/groupSpec.js";
import type { GroupRef, GroupView } from "../aci/backend.js";
import type { MonitorMessage } from "../store/outbox.js";
import { poolOf, type Deps } from "./deps.js";
import { refFor } from "./ids.js";
import { addCaptured, countOnly, toFinishing, type AttemptEnd, type Captured } from "./finish.js";
import type { Next } from "./flow.js";

const STOPPED_STATES = new Set(["Succeeded", "Failed", "Stopped"]);

/** Launching → Running, and the first poll. */
export async function startMonitoring(deps: Deps, jobId: string, attemptN: number): Promise<Next[]> {
  const now = deps.clock.now();
  const r = await changeJob(deps, jobId, (job, move) => {
    if (job.state !== "Launching" || job.attempts.at(-1)?.n !== attemptN) return undefined;
    return move(job, "Running", { monitorSeq: job.monitorSeq + 1, reason: "container group created", lastPolledAt: now.toISOString() });
  });
  if (!r?.changed) return [];
  const pool = poolOf(deps, r.after.pool);
  await deps.outbox.send("monitor", { jobId, attempt: attemptN, seq: r.after.monitorSeq }, pollDelaySeconds(pool, 0, true));
  return [];
}

function deadlineOf(deps: Deps, job: JobRecord): { at?: number; why?: string } {
  const pool = poolOf(deps, job.pool);
  const launched = Date.parse(job.attempts.at(-1)?.launchedAt ?? job.updatedAt);
  const limit = effectiveLimitSeconds(job.spec!, pool.prices);
  if (limit === undefined) return {};
  const byTimeout = job.spec!.timeoutSeconds !== undefined && limit === job.spec!.timeoutSeconds;
  return { at: launched + limit * 1000, why: byTimeout ? `timeoutSeconds (${job.spec!.timeoutSeconds} s) reached` : `maxCostUsd ($${job.spec!.maxCostUsd}) reached` };
}

/**
 * Copies log lines newer than the blob's tail; returns what it stored. `stopped` says
 * whether the container has stopped (ACI then keeps only its last 16 KB / 1,000 lines);
 * a caller that does not know (a log follower) passes a check, which is asked only when a
 * first read looks like it could have been cut: a follower's read after the container
 * exited must still notice what ACI dropped.
 */
export async function captureLogs(deps: Deps, job: JobRecord, ref: GroupRef, stopped: boolean | (() => Promise<boolean>)): Promise<Captured> {
  const attempt = job.attempts.at(-1)!.n;
  for (let i = 0; i < 5; i++) {
    const raw = await deps.aci.logs(ref, CONTAINER_NAME);
    const tail = await deps.logs.tail(job.id, attempt);
    const firstRead = !tail.cursor;
    const ended = typeof stopped === "boolean" ? stopped : firstRead && mayBeCutAfterStop(raw, raw.split("\n").length - 1) && (await stopped());
    const window = parseTimestamped(raw, ended);
    const { lines, gap } = newLinesSince(window, tail.cursor);
    const cut = gap || (firstRead && ended && mayBeCutAfterStop(raw, window.length));
    if (lines.length === 0) return { lines: 0, bytes: 0, gap: cut };
    const text = formatLines(lines);
    if (await deps.logs.append(job.id, attempt, lines.map((l) => `${l.ts} ${l.text}\n`), tail.size)) {
      return { lines: lines.length, bytes: Buffer.byteLength(text), gap: cut };
    }
    // Another poll appended first; read the tail again.
  }
  throw new Error(`job ${job.id}: could not append logs after repeated races`);
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
 * When a group that is found ended, or gone, stopped costing: the finish time ACI reports,
 * else the last poll that saw it alive — never the moment Burst noticed. After downtime (a
 * restarted `npm start`, hosts that were all away) the noticing comes late, and billing up
 * to it charged the whole gap (41 s for a job that ran 6). For a group deleted between
 * polls this may fall short of ACI's meter by up to one poll interval; the true-up from
 * Cost Management (trueUp.ts) then records the real bill, and budgets count the larger.
 */
function lastAlive(job: JobRecord, view: GroupView | undefined, now: Date): string {
  return view?.finishTime ?? job.lastPolledAt ?? now.toISOString();
}

function endOf(view: GroupView, outcome: AttemptEnd["outcome"], reason: string, stoppedAt: string): AttemptEnd {
  return { outcome, reason, exitCode: view.exitCode, pullStartedAt: view.pullStartedAt, startedAt: view.startTime, finishedAt: view.finishTime ?? stoppedAt, stoppedAt, restartCount: view.restartCount };
}

/** One poll of a running job; answers what follows (finishing it, once it has ended). */
export async function pollJob(deps: Deps, msg: MonitorMessage): Promise<Next[]> {
  const got = await deps.jobs.get(msg.jobId);
  if (!got) return [];
  const job = got.value;
  const finish: Next[] = [{ step: "finish", jobId: job.id }];
  if (job.state === "Finishing" && job.attempts.at(-1)?.n === msg.attempt) return finish;
  if (job.state !== "Running" || job.attempts.at(-1)?.n !== msg.attempt || job.monitorSeq !== msg.seq) return [];

  const pool = poolOf(deps, job.pool);
  const ref = refFor(deps, job, msg.attempt);
  const view = await deps.aci.get(ref);
  const now = deps.clock.now();
  if (!view) {
    // Not the job's fault (someone deleted it, or an emulator kept no state): a platform failure, retried under maxPlatformRetries.
    const seen = lastAlive(job, undefined, now);
    await toFinishing(deps, job.id, msg.attempt, { outcome: "PlatformError", reason: `the container group disappeared (last seen alive ${seen})`, stoppedAt: seen });
    return finish;
  }
  if (view.provisioningState === "Failed") {
    await toFinishing(deps, job.id, msg.attempt, { outcome: "PlatformError", reason: `ACI could not provision the container group (${view.events.at(-1)?.message ?? "no detail"})`, pullStartedAt: view.pullStartedAt, stoppedAt: view.pullStartedAt ? lastAlive(job, view, now) : undefined });
    return finish;
  }
  const terminated = view.containerState === "Terminated" && STOPPED_STATES.has(view.state ?? "");
  const deadline = deadlineOf(deps, job);
  const overdue = deadline.at !== undefined && now.getTime() >= deadline.at;
  const mustStop = !terminated && (job.cancelRequested || overdue);
  const logDue = terminated || mustStop || !job.nextLogReadAt || now.getTime() >= Date.parse(job.nextLogReadAt);

  let captured: Captured = { lines: 0, bytes: 0, gap: false };
  if (logDue && view.containerState !== undefined && view.containerState !== "Waiting") {
    captured = await captureLogs(deps, job, ref, terminated);
  }
  if (mustStop) {
    await deps.aci.stop(ref);
    const stoppedAt = deps.clock.now().toISOString();
    // Lines written between the read above and the stop are still in ACI's after-stop window.
    const last = await captureLogs(deps, job, ref, true);
    captured = { lines: captured.lines + last.lines, bytes: captured.bytes + last.bytes, gap: captured.gap || last.gap };
    const outcome = job.cancelRequested ? "Canceled" : "TimedOut";
    const reason = job.cancelRequested ? "canceled" : deadline.why!;
    await toFinishing(deps, job.id, msg.attempt, { ...endOf(view, outcome, reason, stoppedAt), log: captured });
    return finish;
  }
  if (terminated && view.exitCode === undefined && view.state === "Stopped") {
    // Stopped, with no exit code. If Burst had reason to stop it, it did and died before
    // recording so; otherwise someone else did (see stoppedOutside).
    const ours = job.cancelRequested || overdue;
    const outcome = ours ? (job.cancelRequested ? "Canceled" : "TimedOut") : "Failed";
    const reason = ours ? (job.cancelRequested ? "canceled" : deadline.why!) : stoppedOutside(view);
    await toFinishing(deps, job.id, msg.attempt, { ...endOf(view, outcome, reason, lastAlive(job, view, now)), log: captured });
    return finish;
  }
  if (terminated) {
    // Without an exit code (the platform, or an emulator that stopped, ended it) it is not the job's fault: a platform failure, retried.
    const ok = view.exitCode === 0;
    const outcome = view.exitCode === undefined ? "PlatformError" : ok ? "Succeeded" : "Failed";
    const reason = view.exitCode === undefined ? `the container group ended ${view.state} without an exit code (${view.detailStatus ?? "no detail"})` : `exited with code ${view.exitCode}`;
    await toFinishing(deps, job.id, msg.attempt, { ...endOf(view, outcome, reason, lastAlive(job, view, now)), log: captured });
    return finish;
  }

  const attempt = job.attempts.at(-1)!;
  const launched = Date.parse(attempt.launchedAt ?? job.updatedAt);
  const provisioning = view.containerState === undefined || view.containerState === "Waiting";
  const started = view.startTime ? Date.parse(view.startTime) : undefined;
  const elapsed = (now.getTime() - (provisioning || !started ? launched : started)) / 1000;
  const pollDelay = pollDelaySeconds(pool, elapsed, provisioning, deadline.at !== undefined ? (deadline.at - now.getTime()) / 1000 : undefined);
  // A poll that also reads the log costs two reads, so log-driven polls keep to twice the read floor.
  const twoReadFloor = 2 * readBudgetFloorSeconds(pool);
  const lastLogAt = job.lastLogReadAt ? Date.parse(job.lastLogReadAt) : launched;
  const nextLog = logDue
    ? now.getTime() + 1000 * logReadDelaySeconds(captured.lines, captured.bytes, (now.getTime() - lastLogAt) / 1000, twoReadFloor)
    : Date.parse(job.nextLogReadAt!);
  // A chatty job is polled when its log is due, so ACI's after-stop window never has to hold more than it keeps.
  const delay = Math.max(Math.min(pollDelay, twoReadFloor), Math.min(pollDelay, (nextLog - now.getTime()) / 1000));
  const restarted = view.restartCount > (attempt.restartCount ?? 0);
  const r = await changeJob(deps, job.id, (j) => {
    if (j.state !== "Running" || j.monitorSeq !== msg.seq) return countOnly(j, captured);
    const a = j.attempts.at(-1)!;
    return {
      ...j,
      monitorSeq: j.monitorSeq + 1,
      lastPolledAt: now.toISOString(),
      lastLogReadAt: logDue ? now.toISOString() : j.lastLogReadAt,
      nextLogReadAt: new Date(nextLog).toISOString(),
      startedAt: j.startedAt ?? view.startTime,
      log: addCaptured(j.log, captured),
      address: view.ip ? { ip: view.ip, fqdn: view.fqdn, ports: view.ports } : j.address,
      reason: provisioning ? "container group provisioning" : "running",
      attempts: [...j.attempts.slice(0, -1), {
        ...a,
        pullStartedAt: a.pullStartedAt ?? view.pullStartedAt,
        startedAt: a.startedAt ?? view.startTime,
        restartCount: view.restartCount,
        reason: restarted ? `the platform restarted the container (restartCount ${view.restartCount})` : a.reason,
      }],
    };
  });
  if (restarted) deps.log.warn(`job ${job.id}: ACI restarted the container (restartCount ${view.restartCount})`);
  if (r?.changed && r.after.monitorSeq !== r.before.monitorSeq) await deps.outbox.send("monitor", { jobId: job.id, attempt: msg.attempt, seq: r.after.monitorSeq }, delay);
  return [];
}
