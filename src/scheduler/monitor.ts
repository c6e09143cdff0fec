/**
 * Monitoring: one poll per delayed queue message, so no invocation outlives a poll.
 * A poll reads the group (one ARM read), copies new log lines into the job's append
 * blob when due (another read), enforces the deadline, cost cap and cancellation, and
 * either schedules the next poll or records the attempt's end.
 *
 * The job's `monitorSeq` is the chain token: a poll acts only if its message carries
 * the current value, and bumps it whenever it writes the record. A poll that has nothing
 * to record keeps the token (worthWriting); a duplicated or redelivered message can then
 * fork the chain, but only until the next write, which one fork loses.
 */
import type { JobRecord } from "../model.js";
import { changeJob } from "../jobState.js";
import { pollDelaySeconds } from "../polling.js";
import { formatLines, mayBeCutAfterStop, newLinesSince, parseTimestamped } from "../logCursor.js";
import { CONTAINER_NAME } from "../aci/groupSpec.js";
import type { GroupRef } from "../aci/backend.js";
import type { MonitorMessage } from "../store/outbox.js";
import type { Deps } from "./deps.js";
import { poolOf } from "./pools.js";
import { refFor } from "./ids.js";
import { addCaptured, countOnly, toFinishing, type Captured } from "./finish.js";
import { decidePoll, endOf, nextPoll, type PollInput } from "./pollDecision.js";
import type { Next } from "./flow.js";
import { errorMessage } from "../errors.js";

/** Launching → Running, and the first poll. */
export async function startMonitoring(deps: Deps, jobId: string, attemptN: number): Promise<Next[]> {
  const now = deps.clock.now();
  const r = await changeJob(deps, jobId, (job, move) => {
    if (job.state !== "Launching" || job.attempts.at(-1)?.n !== attemptN) return undefined;
    return move(job, "Running", { monitorSeq: job.monitorSeq + 1, reason: "container group created", lastPolledAt: now.toISOString() });
  });
  if (!r?.changed) return [];
  const pool = poolOf(deps, r.after.pool);
  // A container that already reported its exit is looked at now.
  const delay = r.after.attempts.at(-1)?.exitReport ? 0 : pollDelaySeconds(pool, 0, true);
  await sendFirstPoll(deps, { jobId, attempt: attemptN, seq: r.after.monitorSeq }, delay);
  return [];
}

/** Waits before each new try of a first poll's send, seconds: about 15 s in all, as long as Azurite has been seen to stall. */
export const FIRST_POLL_RETRY_SECONDS = [1, 2, 4, 8];

/**
 * Sends a chain's first poll. Nothing else starts a chain: the backup launch message finds
 * the job Running and leaves it, so a first poll lost to a storage error would leave the job
 * unwatched until the reconciler sees it unpolled (a minute or more). Measured at 5,000
 * jobs: a send failing while storage answered slowly took a coalesced message of 13 first
 * polls with it. So a failed send is tried again, alone, a few times before it fails the step.
 */
async function sendFirstPoll(deps: Deps, msg: MonitorMessage, delay: number): Promise<void> {
  for (let tried = 0; ; tried++) {
    try {
      await deps.outbox.send("monitor", msg, delay, tried > 0 ? { alone: true } : {});
      return;
    } catch (err) {
      const wait = FIRST_POLL_RETRY_SECONDS[tried];
      if (wait === undefined) throw err;
      deps.log.warn(`job ${msg.jobId}: the first poll of attempt ${msg.attempt} could not be sent, trying again in ${wait} s: ${errorMessage(err)}`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
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
 * How stale `lastPolledAt` may get before a poll that changed nothing else writes it
 * anyway. The reconciler takes a Running job unpolled for max(60 s, 3 × maxPollSeconds) as
 * a broken chain, and a group that disappears is costed up to the last poll written.
 */
export const POLL_REFRESH_SECONDS = 15;

/**
 * Whether a poll's record is worth a write. A poll that saw nothing new (no log lines, no
 * start, no restart, the same turn for the log) would write only its chain token and
 * `lastPolledAt`: one Table transaction per poll, most of a running job's storage cost.
 * It skips the write and sends the next message with the same token instead. A message
 * delivered twice then forks the chain until the next write, which bumps the token: the
 * fork whose write loses finds the token moved on and stops, so a fork lives at most
 * POLL_REFRESH_SECONDS and never doubles again.
 */
export function worthWriting(before: JobRecord, after: JobRecord, now: Date): boolean {
  const settled = (j: JobRecord) => JSON.stringify({ ...j, monitorSeq: 0, lastPolledAt: "" });
  if (settled(before) !== settled(after)) return true;
  return !before.lastPolledAt || now.getTime() - Date.parse(before.lastPolledAt) >= POLL_REFRESH_SECONDS * 1000;
}

/**
 * One poll of a running job; answers what follows (finishing it, once it has ended).
 * `via` is what caused it: its chain's monitor message, or the container's exit report
 * (which passes the record it has just written, `read`, to save a read).
 */
export async function pollJob(deps: Deps, msg: MonitorMessage, via: "poll" | "report" = "poll", read?: JobRecord): Promise<Next[]> {
  // A report brings the record. The chain's own poll starts from the version this process
  // remembers when that version carries the message's token: only the monitor writes a
  // Running job without a fresh poll following (a cancel sends one, marked `fresh`), and
  // every monitor write moves the token, so a remembered version with the token is what is
  // stored, unless the message is a duplicate whose chain another instance moved on (a
  // fork, which the next write ends, as for any duplicate). Otherwise it reads, and passes
  // the version it read to the change below.
  const remembered = read || msg.fresh ? undefined : deps.jobs.recent?.(msg.jobId);
  const got = read ? undefined : remembered?.value.state === "Running" && remembered.value.monitorSeq === msg.seq ? remembered : await deps.jobs.get(msg.jobId);
  const job = read ?? got?.value;
  if (!job) return [];
  const finish: Next[] = [{ step: "finish", jobId: job.id }];
  if (job.state === "Finishing" && job.attempts.at(-1)?.n === msg.attempt) return finish;
  if (job.state !== "Running" || job.attempts.at(-1)?.n !== msg.attempt || job.monitorSeq !== msg.seq) return [];

  const pool = poolOf(deps, job.pool);
  const ref = refFor(deps, job, msg.attempt);
  const input: PollInput = { job, view: await deps.aci.get(ref), pool, now: deps.clock.now() };
  const { view, now } = input;
  const decision = decidePoll(input);
  const none: Captured = { lines: 0, bytes: 0, gap: false };

  if (decision.kind === "end") {
    const captured = decision.readLog ? await captureLogs(deps, job, ref, true) : none;
    // Seen ended by the read above; copying the last log lines comes after.
    await toFinishing(deps, job.id, msg.attempt, { ...decision.end, log: captured, detectedBy: via, detectedAt: now.toISOString() });
    return finish;
  }
  if (decision.kind === "stop") {
    const before = decision.readLogFirst ? await captureLogs(deps, job, ref, false) : none;
    let last: Captured;
    let stoppedAt: string;
    try {
      await deps.aci.stop(ref);
      stoppedAt = deps.clock.now().toISOString();
      // Lines written between the read above and the stop are still in ACI's after-stop window.
      last = await captureLogs(deps, job, ref, true);
    } catch (err) {
      // The lines stored above are in the log whatever happens next (another poll's finish may have deleted the group
      // under this one): the record counts them before this poll fails.
      await changeJob(deps, job.id, (j) => countOnly(j, before)).catch((e: unknown) =>
        deps.log.warn(`job ${job.id}: ${before.lines} log lines were stored but could not be counted in its record: ${errorMessage(e)}`));
      throw err;
    }
    const captured = { lines: before.lines + last.lines, bytes: before.bytes + last.bytes, gap: before.gap || last.gap };
    await toFinishing(deps, job.id, msg.attempt, { ...endOf(view!, decision.outcome, decision.reason, stoppedAt), log: captured, detectedBy: via });
    return finish;
  }

  const captured = decision.readLog ? await captureLogs(deps, job, ref, false) : none;
  const { delaySeconds, nextLogAt } = nextPoll(input, decision.logDue, captured);
  const g = view!;
  const watched = (j: JobRecord): JobRecord => {
    const a = j.attempts.at(-1)!;
    return {
      ...j,
      monitorSeq: j.monitorSeq + 1,
      lastPolledAt: now.toISOString(),
      lastLogReadAt: decision.logDue ? now.toISOString() : j.lastLogReadAt,
      nextLogReadAt: new Date(nextLogAt).toISOString(),
      startedAt: j.startedAt ?? g.startTime,
      log: addCaptured(j.log, captured),
      address: g.ip ? { ip: g.ip, fqdn: g.fqdn, ports: g.ports } : j.address,
      reason: decision.provisioning ? "container group provisioning" : "running",
      attempts: [...j.attempts.slice(0, -1), {
        ...a,
        pullStartedAt: a.pullStartedAt ?? g.pullStartedAt,
        startedAt: a.startedAt ?? g.startTime,
        restartCount: g.restartCount,
        reason: decision.restarted ? `the platform restarted the container (restartCount ${g.restartCount})` : a.reason,
      }],
    };
  };
  if (via === "poll" && !worthWriting(job, watched(job), now)) {
    // Nothing to record: the next poll carries the same chain token (see worthWriting). A report's poll always
    // writes, so that the chain's own pending message, which carries the same token, stops.
    await deps.outbox.send("monitor", { jobId: job.id, attempt: msg.attempt, seq: msg.seq }, delaySeconds);
    return [];
  }
  const r = await changeJob(deps, job.id, (j) => (j.state !== "Running" || j.monitorSeq !== msg.seq ? countOnly(j, captured) : watched(j)), got);
  if (decision.restarted) deps.log.warn(`job ${job.id}: ACI restarted the container (restartCount ${g.restartCount})`);
  if (r?.changed && r.after.monitorSeq !== r.before.monitorSeq) await deps.outbox.send("monitor", { jobId: job.id, attempt: msg.attempt, seq: r.after.monitorSeq }, delaySeconds);
  return [];
}
