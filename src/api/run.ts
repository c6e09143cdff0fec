/**
 * POST /api/run: a one-off container, answered in one request when it is quick.
 *
 * The body is a job spec plus `waitSeconds`. The job is submitted like any other, then
 * watched until it ends (200 with exit code, logs, cost and duration) or the wait is
 * over (202 with a Location to poll). A job that asks for a public IP is a service,
 * not a task: the answer comes as soon as its address is known and its container has
 * started, without waiting for it to end.
 */
import { isFinal } from "../jobState.js";
import type { JobRecord } from "../model.js";
import type { Deps } from "../scheduler/deps.js";
import { submitJob } from "../scheduler/submit.js";
import { invalid, json, type ApiRequest, type ApiResponse, type FieldError } from "./http.js";
import { readBody } from "./body.js";
import { QueryReader } from "./params.js";
import { ensureNoConflicts, ensureRoom } from "./submit.js";
import { checkSpec } from "./specCheck.js";
import { loadJob } from "./jobs.js";
import { readLogChunk } from "./logText.js";

export const DEFAULT_RUN_WAIT_SECONDS = 60;
/** Azure's front end drops HTTP requests that take longer than 230 s. */
export const MAX_RUN_WAIT_SECONDS = 230;
/** The `logs` field holds at most this much; the rest is at /api/jobs/{id}/logs. */
export const MAX_RUN_LOG_BYTES = 1024 * 1024;
const CHECK_EVERY_MS = 250;

function takeWait(value: Record<string, unknown>): { wait: number; errors: FieldError[] } {
  const w = value.waitSeconds;
  delete value.waitSeconds;
  if (w === undefined) return { wait: DEFAULT_RUN_WAIT_SECONDS, errors: [] };
  if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > MAX_RUN_WAIT_SECONDS) {
    return { wait: DEFAULT_RUN_WAIT_SECONDS, errors: [{ field: "waitSeconds", rule: `must be a whole number from 0 to ${MAX_RUN_WAIT_SECONDS} (Azure's HTTP request limit is 230 s)` }] };
  }
  return { wait: w, errors: [] };
}

function addressOf(job: JobRecord) {
  const a = job.address;
  if (!a?.ip) return undefined;
  return { ...a, urls: (a.ports ?? []).map((p) => `http://${a.ip}${p === 80 ? "" : `:${p}`}/`) };
}

function durationSeconds(job: JobRecord): number | null {
  const a = job.attempts.at(-1);
  if (!a?.startedAt) return null;
  const end = Date.parse(a.finishedAt ?? job.finishedAt ?? a.startedAt);
  return Math.max(0, Math.round(end - Date.parse(a.startedAt)) / 1000);
}

export async function runOnce(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const body = await readBody(req);
  const value = body.values[0];
  if (body.isList || body.values.length !== 1 || typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("InvalidSpec", [{ field: "(body)", rule: "must be one job spec (an object), with an optional waitSeconds" }]);
  }
  const input = { ...(value as Record<string, unknown>) };
  const { wait, errors } = takeWait(input);
  const checked = checkSpec(deps, input);
  if (!checked.ok || errors.length > 0) throw invalid("InvalidSpec", [...errors, ...(checked.ok ? [] : checked.errors)]);
  const spec = checked.spec;
  await ensureNoConflicts(deps, [spec], false);
  await ensureRoom(deps, [spec]);
  const submitted = await submitJob(deps, input);
  const id = submitted.job.id;
  const location = `/api/jobs/${id}`;

  const deadline = Date.now() + wait * 1000;
  let job = submitted.job;
  for (;;) {
    if (isFinal(job.state)) {
      const logs = await readLogChunk(deps, job, { offset: 0, timestamps: false, maxBytes: MAX_RUN_LOG_BYTES });
      return json(200, {
        id, state: job.state, exitCode: job.exitCode ?? null, reason: job.reason, logs: logs.text,
        // Output is missing when ACI dropped some before Burst copied it, or when the answer keeps only its first 1 MiB.
        logsTruncated: Boolean(job.log.truncated) || logs.more, outputLost: Boolean(job.log.truncated),
        costUsd: job.costUsd, durationSeconds: durationSeconds(job), attempts: job.attempts.length, address: addressOf(job),
      }, { location });
    }
    const address = addressOf(job);
    if (spec.publicIp && address && job.startedAt) {
      return json(200, { id, state: job.state, address, reason: job.reason }, { location });
    }
    if (Date.now() >= deadline) {
      return json(202, { id, state: job.state, reason: job.reason, location, address }, { location });
    }
    await new Promise((r) => setTimeout(r, Math.min(CHECK_EVERY_MS, Math.max(0, deadline - Date.now()))));
    job = await loadJob(deps, id);
  }
}
