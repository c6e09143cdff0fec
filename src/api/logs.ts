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
import { refFor } from "../scheduler/launch.js";
import { mutateJob } from "../store/jobStore.js";
import { errorMessage } from "../errors.js";
import { invalid, text, type ApiRequest, type ApiResponse } from "./http.js";
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
    const captured = await captureLogs(deps, job, refFor(deps, job, attempt.n), false);
    if (captured.lines === 0 && !captured.gap) return;
    // Keep the record's counts true, as the monitor does for what it copies.
    await mutateJob(deps.jobs, job.id, (j) => ({ ...j, log: addCaptured(j.log, captured) }));
  } catch (err) {
    // Not fatal: the monitor copies the log anyway; the follower just sees it later.
    deps.log.warn(`follow: could not refresh the log of job ${job.id}: ${errorMessage(err)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function followLog(
  deps: Deps,
  id: string,
  opts: { attempt?: number; offset: number; timestamps: boolean; waitSeconds: number },
): Promise<LogChunk> {
  const deadline = Date.now() + opts.waitSeconds * 1000;
  let seenState: string | undefined;
  for (;;) {
    const job = await loadJob(deps, id);
    seenState ??= job.state;
    await refreshIfDue(deps, job);
    const chunk = await readLogChunk(deps, job, opts);
    if (chunk.text !== "" || chunk.complete || job.state !== seenState || isFinal(job.state) || Date.now() >= deadline) return chunk;
    await sleep(Math.min(CHECK_EVERY_MS, Math.max(0, deadline - Date.now())));
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
