/**
 * Schedules over HTTP: POST/GET /api/schedules, GET/DELETE /api/schedules/{name}, and
 * POST /api/schedules/{name}/suspend, /resume and /trigger. `burst schedule` calls these.
 */
import type { Deps } from "../scheduler/deps.js";
import { SCHEDULE_NAME } from "../schedules/model.js";
import { createSchedule, deleteSchedule, scheduleSummary, scheduleView, setSuspended } from "../schedules/manage.js";
import { triggerSchedule } from "../schedules/fire.js";
import type { ScheduleStore } from "../schedules/store.js";
import { ApiError, invalid, json, type ApiRequest, type ApiResponse } from "./http.js";
import { readBody } from "./body.js";
import { QueryReader } from "./params.js";

const NAME_RULE = "must be a schedule name: 1-52 lowercase letters, digits or dashes";

function nameParam(req: ApiRequest): string {
  const name = req.params.name ?? "";
  if (!SCHEDULE_NAME.test(name)) throw new ApiError(400, "InvalidParameter", `name ${NAME_RULE}`, [{ field: "name", rule: NAME_RULE }]);
  return name;
}

const notFound = (name: string) => new ApiError(404, "ScheduleNotFound", `there is no schedule ${name}`);

export async function postSchedule(deps: Deps, store: ScheduleStore, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const body = await readBody(req);
  if (body.isList) throw invalid("InvalidSpec", [{ field: "(body)", rule: "must be one schedule, not a list" }]);
  const r = await createSchedule(deps, store, body.values[0]);
  if (r.outcome === "invalid")
    throw new ApiError(400, "InvalidSpec", `invalid schedule: ${r.errors.map((e) => `${e.field} ${e.rule}`).join("; ")}`, r.errors);
  if (r.outcome === "exists")
    throw new ApiError(409, "ScheduleExists", `schedule ${r.record.name} already exists; delete it first to redefine it`);
  return json(201, await scheduleView(deps, r.record), { location: `/api/schedules/${r.record.name}` });
}

export async function listSchedules(deps: Deps, store: ScheduleStore, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const now = deps.clock.now();
  return json(200, { schedules: (await store.list()).map((v) => scheduleSummary(v.value, now)) });
}

export async function getSchedule(deps: Deps, store: ScheduleStore, req: ApiRequest): Promise<ApiResponse> {
  const name = nameParam(req);
  new QueryReader(req, []).done();
  const v = await store.get(name);
  if (!v) throw notFound(name);
  return json(200, await scheduleView(deps, v.value));
}

export async function removeSchedule(deps: Deps, store: ScheduleStore, req: ApiRequest): Promise<ApiResponse> {
  const name = nameParam(req);
  new QueryReader(req, []).done();
  const v = await store.get(name);
  if (!v) throw notFound(name);
  if (v.value.source === "config")
    throw new ApiError(
      409,
      "ScheduleFromConfig",
      `schedule ${name} is defined by BURST_SCHEDULES; remove it there (suspend it to stop its runs meanwhile)`,
    );
  if (!(await deleteSchedule(store, name))) throw notFound(name);
  return json(200, { name, deleted: true });
}

export async function suspendOrResume(deps: Deps, store: ScheduleStore, req: ApiRequest, suspend: boolean): Promise<ApiResponse> {
  const name = nameParam(req);
  new QueryReader(req, []).done();
  const rec = await setSuspended(deps, store, name, suspend);
  if (!rec) throw notFound(name);
  return json(200, scheduleSummary(rec, deps.clock.now()));
}

export async function trigger(deps: Deps, store: ScheduleStore, req: ApiRequest): Promise<ApiResponse> {
  const name = nameParam(req);
  new QueryReader(req, []).done();
  const jobId = await triggerSchedule(deps, store, name);
  if (!jobId) throw notFound(name);
  return json(202, { name, jobId }, { location: `/api/jobs/${jobId}` });
}
