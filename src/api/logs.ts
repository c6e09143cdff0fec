/**
 * GET /api/jobs/{id}/logs, plain or followed.
 *
 * Functions' HTTP responses are not streamed here, so following is a long poll: the
 * client passes the offset it has read to, and the answer comes as soon as there is
 * something new, the job changes state, or the log is complete — or after `wait`
 * seconds with nothing new. Headers carry the next offset and whether it is over.
 *
 * The monitor copies a running job's log only every few seconds or more (its ARM read
 * budget), so a follower also refreshes the stored copy itself, at most every
 * REFRESH_MS per job in this instance and not when the monitor has just done it.
 * The copy is the same idempotent capture the monitor uses, so the two never store a
 * line twice.
 */
import { isFinal } from "../jobState.js";
import type { JobRecord } from "../model.js";
import type { Deps } from "../scheduler/deps.js";
import { captureLogs } from "../scheduler/monitor.js";
import { addCaptured } from "../scheduler/finish.js";
import { refFor } from "../scheduler/ids.js";
import { changeJob } from "../jobState.js";
import { errorMessage } from "../errors.js";
import { ApiError, invalid, text, type ApiRequest, type ApiResponse } from "./http.js";
import { QueryReader, jobIdParam } from "./params.js";
import { loadJob } from "./jobs.js";
import { logHeaders, readLogChunk, type LogChunk } from "./logText.js";

export const FOLLOW_WAIT_SECONDS = 20;
export const FOLLOW_MAX_WAIT_SECONDS = 25;
export const REFRESH_MS = 2000;
const CHECK_EVERY_MS = 400;

const lastRefresh = new Map<string, number>();

async function refreshIfDue(deps: Deps, job: JobRecord): Promise<void> {
  const attempt = job.attempts.at(-1);
  if (job.state !== "Running" || !attempt) return;
  const now = deps.clock.now().getTime();
  const last = Math.max(lastRefresh.get(job.id) ?? 0, job.lastLogReadAt ? Date.parse(job.lastLogReadAt) : 0);
  if (now - last < REFRESH_MS) return;
  if (lastRefresh.size > 10_000) lastRefresh.clear();
  lastRefresh.set(job.id, now);
  try {
    const ref = refFor(deps, job, attempt.n);
    // The container may have exited before the monitor noticed: ask ACI when the first read looks cut.
    const captured = await captureLogs(deps, job, ref, async () => (await deps.aci.get(ref))?.containerState === "Terminated");
    if (captured.lines === 0 && !captured.gap) return;
    // Keep the record's counts true, as the monitor does for what it copies.
    await changeJob(deps, job.id, (j) => ({ ...j, log: addCaptured(j.log, captured) }));
  } catch (err) {
    // Not fatal: the monitor copies the log anyway; the follower just sees it later.
    deps.log.warn(`follow: could not refresh the log of job ${job.id}: ${errorMessage(err)}`);
  }
}

/** At most this many follow a job at once in one instance, and this many in all: each holds an invocation open. */
export const MAX_FOLLOWERS_PER_JOB = 20;
export const MAX_FOLLOWERS_PER_INSTANCE = 200;

/**
 * One watch per followed job in this instance, whatever the number of followers: it
 * reads the job record and the last attempt's log size once per tick (and refreshes the
 * stored log when due), and wakes the followers only when something changed. So 250
 * followers of one job cost what one does, where each used to read both every tick.
 */
interface Watch {
  /** Followers of this job here; the watch runs while there are any. */
  followers: number;
  waiters: Set<() => void>;
  job?: JobRecord;
  /** State, attempt count and stored size of the last attempt's log: what a follower could see change. */
  version: string;
  error?: unknown;
}

const watches = new Map<string, Watch>();
let followers = 0;

async function versionOf(deps: Deps, job: JobRecord): Promise<string> {
  const last = job.attempts.at(-1);
  const size = last ? (await deps.logs.read(job.id, last.n, Number.MAX_SAFE_INTEGER)).size : 0;
  return `${job.state}|${job.attempts.length}|${size}`;
}

function startWatch(deps: Deps, id: string): Watch {
  const w: Watch = { followers: 1, waiters: new Set(), version: "" };
  watches.set(id, w);
  void (async () => {
    for (;;) {
      // Checked and removed in one turn of the event loop, so a follower never joins a watch that stopped.
      if (w.followers <= 0) {
        watches.delete(id);
        return;
      }
      try {
        const job = await loadJob(deps, id);
        await refreshIfDue(deps, job);
        const version = await versionOf(deps, job);
        w.job = job;
        w.error = undefined;
        if (version !== w.version) {
          w.version = version;
          for (const wake of w.waiters) wake();
        }
      } catch (err) {
        w.error = err;
        for (const wake of w.waiters) wake();
      }
      await new Promise((r) => setTimeout(r, CHECK_EVERY_MS));
    }
  })();
  return w;
}

export async function followLog(
  deps: Deps,
  id: string,
  opts: { attempt?: number; offset: number; timestamps: boolean; waitSeconds: number },
): Promise<LogChunk> {
  const first = await loadJob(deps, id);
  const chunk = await readLogChunk(deps, first, opts);
  if (chunk.text !== "" || chunk.complete || isFinal(first.state) || opts.waitSeconds <= 0) return chunk;

  const watching = watches.get(id)?.followers ?? 0;
  if (watching >= MAX_FOLLOWERS_PER_JOB || followers >= MAX_FOLLOWERS_PER_INSTANCE) {
    const which = watching >= MAX_FOLLOWERS_PER_JOB ? `job ${id} already has ${MAX_FOLLOWERS_PER_JOB} followers here` : `this instance already serves ${MAX_FOLLOWERS_PER_INSTANCE} followers`;
    throw new ApiError(429, "TooManyFollowers", `${which}; read without follow, or try again later`);
  }
  const existing = watches.get(id);
  if (existing) existing.followers++;
  const w = existing ?? startWatch(deps, id);
  followers++;
  let wake: () => void = () => {};
  const changed = () => new Promise<void>((resolve) => { wake = resolve; });
  try {
    const deadline = Date.now() + opts.waitSeconds * 1000;
    // The watch's version when this follower last read: a change while it was reading is not missed.
    let seen = w.version;
    for (;;) {
      if (w.version === seen) {
        const next = changed();
        w.waiters.add(wake);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([next, new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, deadline - Date.now())); })]);
        clearTimeout(timer);
        w.waiters.delete(wake);
      }
      if (w.error) throw w.error;
      seen = w.version;
      const job = w.job ?? first;
      const piece = await readLogChunk(deps, job, opts);
      if (piece.text !== "" || piece.complete || job.state !== first.state || isFinal(job.state) || Date.now() >= deadline) return piece;
    }
  } finally {
    followers--;
    w.followers--;
  }
}

export async function jobLogs(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const id = jobIdParam(req);
  const q = new QueryReader(req, ["timestamps", "attempt", "follow", "offset", "wait"]);
  const timestamps = q.bool("timestamps");
  const attempt = q.int("attempt", 1, 1000);
  const follow = q.bool("follow");
  const offset = q.int("offset", 0, Number.MAX_SAFE_INTEGER, 0);
  const waitSeconds = q.int("wait", 0, FOLLOW_MAX_WAIT_SECONDS, FOLLOW_WAIT_SECONDS);
  q.done();
  const job = await loadJob(deps, id);
  if (attempt !== undefined && attempt > job.attempts.length) {
    throw invalid("InvalidParameter", [{
      field: "attempt",
      rule: job.attempts.length ? `must be from 1 to ${job.attempts.length} (the attempts job ${id} has had)` : `must not be given yet: job ${id} has not had an attempt`,
    }]);
  }
  const chunk = follow
    ? await followLog(deps, id, { attempt, offset, timestamps, waitSeconds })
    : await readLogChunk(deps, job, { attempt, offset, timestamps });
  return text(200, chunk.text, logHeaders(chunk));
}
