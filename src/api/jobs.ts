/** GET /api/jobs/{id}, GET /api/jobs (filtered, paged), DELETE /api/jobs/{id} and POST /api/jobs/{id}/retry?failed=true. */
import { JOB_STATES, type JobRecord } from "../model.js";
import { POOL_NAME } from "../jobSpec.js";
import { cancelJob } from "../scheduler/cancel.js";
import { retryFailedStep } from "../scheduler/arrayRetry.js";
import { runAll } from "../scheduler/flow.js";
import { JOB_ORDERS } from "../store/jobStore.js";
import type { Deps } from "../scheduler/deps.js";
import { ApiError, json, type ApiRequest, type ApiResponse } from "./http.js";
import { QueryReader, jobIdParam, jobNotFound } from "./params.js";
import { jobSummary, publicJob } from "./views.js";
import { waitingReasons } from "./waiting.js";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;

// "key" or "key=value", with the spec's label rules.
const LABEL_FILTER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}(=[^\x00-\x1F\x7F]{0,256})?$/;

export async function loadJob(deps: Deps, id: string): Promise<JobRecord> {
  const got = await deps.jobs.get(id);
  if (!got) throw jobNotFound(id);
  return got.value;
}

export async function getJob(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const id = jobIdParam(req);
  new QueryReader(req, []).done();
  const job = await loadJob(deps, id);
  const waiting = await waitingReasons(deps, [job]);
  return json(200, publicJob(job, { pool: deps.config.pools.get(job.pool), now: deps.clock.now(), waiting: waiting.get(job.id) }));
}

/**
 * The Table SDK's token is base64 JSON holding the service's own opaque next-row
 * markers. Only that shape, with short printable markers, is passed on to storage (a
 * token from the other sort order just reads on from a place that order never reaches).
 */
const MARKER = /^[\x21-\x7E]{1,512}$/;
function validToken(token: string): boolean {
  if (token.length > 2048 || !/^[A-Za-z0-9+/]+=*$/.test(token)) return false;
  try {
    const t = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { nextPartitionKey?: unknown; nextRowKey?: unknown };
    return typeof t === "object" && t !== null && typeof t.nextPartitionKey === "string" && MARKER.test(t.nextPartitionKey)
      && (t.nextRowKey === undefined || (typeof t.nextRowKey === "string" && MARKER.test(t.nextRowKey)));
  } catch {
    return false;
  }
}

export async function listJobs(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const q = new QueryReader(req, ["state", "pool", "label", "limit", "sort", "continuationToken"]);
  const state = q.oneOf("state", JOB_STATES);
  const sort = q.oneOf("sort", JOB_ORDERS, "newest");
  const pool = q.string("pool", POOL_NAME, "must be a pool name: 1-32 lowercase letters, digits or dashes");
  const label = q.string("label", LABEL_FILTER, "must be key or key=value, with a label key (letters, digits, . _ / -, at most 63) and a value of at most 256 characters");
  const limit = q.int("limit", 1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT);
  const token = q.raw("continuationToken");
  if (token !== undefined && !validToken(token)) q.errors.push({ field: "continuationToken", rule: "must be a continuationToken from a previous page of this list" });
  q.done();
  const page = await deps.jobs.list({ state, pool, label }, limit, token, sort);
  const waiting = await waitingReasons(deps, page.jobs);
  const now = deps.clock.now();
  const jobs = page.jobs.map((job) => jobSummary(job, { pool: deps.config.pools.get(job.pool), now, waiting: waiting.get(job.id) }));
  return json(200, { jobs, continuationToken: page.continuationToken ?? null });
}

export async function cancel(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const id = jobIdParam(req);
  new QueryReader(req, []).done();
  const r = await cancelJob(deps, id);
  if (r.outcome === "notFound") throw jobNotFound(id);
  if (r.outcome === "finished") throw new ApiError(409, "JobFinished", `job ${id} has already finished (${r.job.state}); there is nothing to cancel`);
  return json(202, { id, state: r.job.state }, { location: `/api/jobs/${id}` });
}

/** POST /api/jobs/{id}/retry?failed=true: a new attempt of only the failed children of a Failed array. */
export async function retry(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const id = jobIdParam(req);
  const q = new QueryReader(req, ["failed"]);
  const failed = q.bool("failed");
  if (!failed && q.errors.length === 0) q.errors.push({ field: "failed", rule: "must be true: only the failed children of an array can be retried (retry?failed=true)" });
  q.done();
  const r = await retryFailedStep(deps, id);
  if (r.outcome === "notFound") throw jobNotFound(id);
  if (r.outcome === "refused") throw new ApiError(409, "NothingToRetry", r.why);
  await runAll(deps, r.next);
  return json(202, { id, state: r.job.state, retrying: r.indexes }, { location: `/api/jobs/${id}` });
}
