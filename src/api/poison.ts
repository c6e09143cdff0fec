/**
 * The poison queues over HTTP: how deep each is, what is in one, and sending messages back
 * to their queue or throwing them away. `burst poison` calls these. See store/poison.ts.
 */
import { BURST_QUEUES, type BurstQueue } from "../store/poison.js";
import type { Deps } from "../scheduler/deps.js";
import { ApiError, invalid, json, type ApiRequest, type ApiResponse } from "./http.js";
import { readBody } from "./body.js";
import { QueryReader } from "./params.js";

function queueOf(req: ApiRequest): BurstQueue {
  const q = req.params.queue ?? "";
  if (!(BURST_QUEUES as readonly string[]).includes(q)) {
    throw new ApiError(404, "QueueNotFound", `there is no Burst queue ${JSON.stringify(q.slice(0, 40))}: one of ${BURST_QUEUES.join(", ")}`);
  }
  return q as BurstQueue;
}

const MESSAGE_ID = /^[0-9a-f-]{1,64}$/i;

export async function poisonDepths(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const depths = await deps.poison.depths();
  return json(200, { queues: BURST_QUEUES.map((queue) => ({ queue, depth: depths[queue] })) });
}

export async function poisonPeek(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const queue = queueOf(req);
  const q = new QueryReader(req, ["limit"]);
  const limit = q.int("limit", 1, 32, 32);
  q.done();
  return json(200, { queue, messages: await deps.poison.peek(queue, limit) });
}

/** `{"ids": [...]}` or `{"all": true}`: which messages a redrive or purge takes. */
async function selection(req: ApiRequest): Promise<"all" | string[]> {
  const body = await readBody(req);
  const v = body.values[0] as { ids?: unknown; all?: unknown } | undefined;
  const keys = v && typeof v === "object" ? Object.keys(v) : [];
  if (body.isList || !v || keys.some((k) => k !== "ids" && k !== "all")) {
    throw invalid("InvalidParameter", [{ field: "(body)", rule: 'must be {"ids": ["<message id>", …]} or {"all": true}' }]);
  }
  if (v.all === true && v.ids === undefined) return "all";
  if (Array.isArray(v.ids) && v.ids.length > 0 && v.ids.length <= 1000 && v.ids.every((id) => typeof id === "string" && MESSAGE_ID.test(id)) && v.all === undefined) return v.ids as string[];
  throw invalid("InvalidParameter", [{ field: "ids", rule: "must be 1-1000 message ids (as `burst poison show` lists them), or give all: true instead" }]);
}

export async function poisonRedrive(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const queue = queueOf(req);
  new QueryReader(req, []).done();
  const r = await deps.poison.redrive(queue, await selection(req));
  return json(200, { queue, redriven: r.done, missing: r.missing });
}

export async function poisonPurge(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const queue = queueOf(req);
  new QueryReader(req, []).done();
  const r = await deps.poison.purge(queue, await selection(req));
  return json(200, { queue, purged: r.done, missing: r.missing });
}
