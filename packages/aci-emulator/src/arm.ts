/**
 * The ARM surface of Microsoft.ContainerInstance (api-version 2023-05-01), as the
 * @azure/arm-containerinstance 9.x client calls it. Before a handler runs, a request
 * goes through what ARM puts in front of a resource provider: a 429 storm if one is
 * injected, the subscription's token bucket, and injected 500/503 answers.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ArmError, asArmError, errors } from "./errors.js";
import { baseUrl, match, readJson, send, type Reply } from "./http.js";
import { OPERATION_API_VERSION, type AsyncOperation } from "./operations.js";
import { renderGroup, type RenderOptions } from "./render.js";
import { answerCostQuery, COST_API_VERSION } from "./costQuery.js";
import type { AciService } from "./service.js";
import type { ArmKind } from "./throttle.js";

export const API_VERSION = "2023-05-01";
const CI = "providers/Microsoft.ContainerInstance";
const RG = "subscriptions/:sub/resourceGroups/:rg";

interface Ctx {
  service: AciService;
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  base: string;
}

type Handler = (ctx: Ctx) => Promise<Reply> | Reply;
interface Route {
  pattern: string;
  methods: Partial<Record<string, Handler>>;
  /** The api-versions this path answers (default: the resource's). */
  versions?: string[];
  /** How ARM's throttling counts it, when not by method. */
  kind?: ArmKind;
}

/** Cost Management answers from the billing meter; a POST that only reads. */
const costQuery = (resourceGroup: boolean): Route => ({
  pattern: `${resourceGroup ? RG : "subscriptions/:sub"}/providers/Microsoft.CostManagement/query`,
  versions: [COST_API_VERSION],
  kind: "read",
  methods: {
    POST: async (ctx) => {
      ctx.service.counters.count("costQueries");
      const skip = Number(ctx.query.get("$skiptoken") ?? "0") || 0;
      const scope = { subscriptionId: ctx.params.sub!, resourceGroup: resourceGroup ? ctx.params.rg : undefined };
      const base = `${ctx.base}/${resourceGroup ? `subscriptions/${ctx.params.sub}/resourceGroups/${ctx.params.rg}` : `subscriptions/${ctx.params.sub}`}/providers/Microsoft.CostManagement/query?api-version=${COST_API_VERSION}`;
      const body = answerCostQuery(ctx.service.ledger, scope, await readJson(ctx.req), ctx.service.costs, ctx.service.clock.now(), { skip, rows: ctx.service.limits.listPageSize, nextLink: (n) => `${base}&$skiptoken=${n}` });
      return { status: 200, body };
    },
  },
});

// Every live recording's Azure-AsyncOperation URL carries api-version 2018-06-01, and a
// PUT's x-ms-request-id is "{region}:{the operation's id}" (azure-sdk-for-net, 2023-05-01).
const operationHeader = (ctx: Ctx, op: AsyncOperation) => ({
  "Azure-AsyncOperation": `${ctx.base}/subscriptions/${op.subscriptionId}/${CI}/locations/${op.region}/operations/${op.id}?api-version=${OPERATION_API_VERSION}`,
  "x-ms-request-id": `${op.region}:${op.id}`,
});

/** The live service's request ids on container group calls are "{region}:{uuid}". */
const regional = (region: string) => ({ "x-ms-request-id": `${region}:${randomUUID()}` });

const view = (service: AciService, groupView: boolean, containerViews: boolean): RenderOptions => ({ groupView, containerViews, events: service.eventView() });

const routes: Route[] = [
  costQuery(false),
  costQuery(true),
  { pattern: `subscriptions/:sub/${CI}/containerGroups`, methods: { GET: (ctx) => list(ctx) } },
  { pattern: `${RG}/${CI}/containerGroups`, methods: { GET: (ctx) => list(ctx, ctx.params.rg) } },
  {
    pattern: `${RG}/${CI}/containerGroups/:name`,
    methods: {
      GET: ({ service, params }) => {
        service.counters.count("reads");
        const g = service.find(params.sub!, params.rg!, params.name!);
        return { status: 200, body: renderGroup(g, view(service, true, true)), headers: regional(g.spec.region) };
      },
      PUT: async (ctx) => {
        const body = await readJson(ctx.req);
        const r = await ctx.service.put(ctx.params.sub!, ctx.params.rg!, ctx.params.name!, body);
        return {
          status: r.status,
          body: renderGroup(r.group, view(ctx.service, true, r.status === 200)),
          headers: { ...regional(r.group.spec.region), ...r.headers, ...(r.operation ? operationHeader(ctx, r.operation) : {}) },
        };
      },
      PATCH: async (ctx) => {
        const g = ctx.service.patchTags(ctx.params.sub!, ctx.params.rg!, ctx.params.name!, await readJson(ctx.req));
        return { status: 200, body: renderGroup(g, view(ctx.service, true, false)), headers: regional(g.spec.region) };
      },
      DELETE: async ({ service, params }) => {
        // The live DELETE answers with the whole group, instance views included, as it was (azure-sdk-for-net Delete_RegularPriority).
        let body: unknown;
        const r = await service.delete(params.sub!, params.rg!, params.name!, (g) => { body = renderGroup(g, view(service, true, true)); });
        if (!r) return { status: 204 };
        return { status: 200, body, headers: { ...regional(r.group.spec.region), ...r.headers } };
      },
    },
  },
  {
    pattern: `${RG}/${CI}/containerGroups/:name/stop`,
    methods: { POST: async ({ service, params }) => (await service.stop(params.sub!, params.rg!, params.name!), { status: 204 }) },
  },
  {
    pattern: `${RG}/${CI}/containerGroups/:name/start`,
    methods: { POST: (ctx) => ({ status: 202, headers: operationHeader(ctx, ctx.service.start(ctx.params.sub!, ctx.params.rg!, ctx.params.name!)) }) },
  },
  {
    pattern: `${RG}/${CI}/containerGroups/:name/restart`,
    methods: { POST: async (ctx) => ({ status: 202, headers: operationHeader(ctx, await ctx.service.restart(ctx.params.sub!, ctx.params.rg!, ctx.params.name!)) }) },
  },
  {
    pattern: `${RG}/${CI}/containerGroups/:name/containers/:container/logs`,
    methods: {
      GET: ({ service, params, query }) => {
        service.counters.count("logReads");
        const tailText = query.get("tail");
        const tail = tailText === null ? undefined : Number(tailText);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw errors.invalidContent(`tail must be a whole number of lines (got '${tailText}')`);
        const timestamps = (query.get("timestamps") ?? "false").toLowerCase() === "true";
        return { status: 200, body: { content: service.logs(params.sub!, params.rg!, params.name!, params.container!, tail, timestamps) } };
      },
    },
  },
  {
    pattern: `subscriptions/:sub/${CI}/locations/:location/operations/:id`,
    methods: {
      GET: ({ service, params }) => {
        service.counters.count("operationReads");
        const op = service.operations.get(params.id!);
        if (!op || op.subscriptionId.toLowerCase() !== params.sub!.toLowerCase()) throw errors.operationNotFound(params.id!);
        return { status: 200, body: op.body(service.fidelity.operationCreating), headers: regional(op.region) };
      },
    },
  },
  {
    pattern: `subscriptions/:sub/${CI}/locations/:location/usages`,
    methods: {
      GET: ({ service, params }) => {
        service.counters.count("reads");
        const u = service.usage(params.sub!, params.location!);
        const l = service.limits;
        const item = (value: string, localizedValue: string, currentValue: number, limit: number) => ({
          unit: "Count",
          currentValue: Math.ceil(currentValue),
          limit,
          name: { value, localizedValue },
        });
        return {
          status: 200,
          body: {
            value: [
              item("ContainerGroups", "Container Groups", u.containerGroups, l.containerGroupsPerRegion),
              item("StandardCores", "Standard Cores", u.cores, l.standardCoresPerRegion),
            ],
          },
        };
      },
    },
  },
];

function list(ctx: Ctx, resourceGroup?: string): Reply {
  const { service, params, query } = ctx;
  service.counters.count("lists");
  const all = service.list(params.sub!, resourceGroup);
  const token = query.get("$skipToken");
  const start = token === null ? 0 : all.findIndex((g) => g.ref.id.toLowerCase() > token.toLowerCase());
  const page = start < 0 ? [] : all.slice(start, start + service.limits.listPageSize);
  const more = start >= 0 && start + page.length < all.length;
  const body: Record<string, unknown> = { value: page.map((g) => renderGroup(g, view(service, false, false))) };
  if (more) {
    const path = resourceGroup ? `subscriptions/${params.sub}/resourceGroups/${params.rg}` : `subscriptions/${params.sub}`;
    const last = page[page.length - 1]!.ref.id;
    body.nextLink = `${ctx.base}/${path}/${CI}/containerGroups?api-version=${API_VERSION}&$skipToken=${encodeURIComponent(last)}`;
  }
  return { status: 200, body };
}

/**
 * The action ARM authorizes a call as (what a role must allow), by ARM's rule: the
 * provider namespace and the resource types along the path (names dropped), then read
 * (GET), write (PUT, PATCH), delete, or, for a POST, the last segment and "action".
 * E.g. POST …/containerGroups/{name}/stop is Microsoft.ContainerInstance/containerGroups/stop/action.
 */
export function armAction(method: string, segments: readonly string[]): string {
  const at = segments.findIndex((s) => s.toLowerCase() === "providers");
  const rest = segments.slice(at + 1);
  const types = [rest[0], ...rest.slice(1).filter((_, i) => i % 2 === 0)];
  const verb = method === "GET" || method === "HEAD" ? "read" : method === "DELETE" ? "delete" : method === "POST" ? "action" : "write";
  return [...types, verb].join("/");
}

function kindOf(method: string): ArmKind {
  return method === "GET" || method === "HEAD" ? "read" : method === "DELETE" ? "delete" : "write";
}

export async function handleArm(service: AciService, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  let headers: Record<string, string> = {};
  try {
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let route: Route | undefined;
    let params: Record<string, string> | undefined;
    for (const r of routes) if ((params = match(r.pattern, segments))) { route = r; break; }
    if (!route || !params) throw errors.pathNotFound(url.pathname);
    service.counters.recordAction(armAction(method, segments));
    const version = url.searchParams.get("api-version");
    if (version === null) throw errors.missingApiVersion();
    // Operation polls come with the header's 2018-06-01; the azure-sdk-for-net recording shows 2023-05-01 answered too.
    const versions = route.versions ?? (route.pattern.endsWith("operations/:id") ? [API_VERSION, OPERATION_API_VERSION] : [API_VERSION]);
    if (!versions.includes(version)) throw errors.unsupportedApiVersion(version);
    const handler = route.methods[method];
    if (!handler) throw errors.methodNotAllowed(method);

    const kind = route.kind ?? kindOf(method);
    const storm = service.faults.throttleStorm;
    if (storm.activeUntil !== null && service.clock.now() < storm.activeUntil) {
      service.counters.throttled.storm++;
      throw errors.storm(storm.retryAfterSeconds);
    }
    const decision = service.throttle.arm(params.sub!, kind);
    headers = decision.headers;
    if (!decision.admitted) {
      service.counters.throttled[kind === "read" ? "reads" : kind === "write" ? "writes" : "deletes"]++;
      throw errors.armThrottled(kind, params.sub!, decision.retryAfterSeconds, decision.headers);
    }
    const http = service.faults.httpErrors;
    if (http.rate > 0 && service.httpRng() < http.rate) {
      service.counters.injectedErrors++;
      const status = http.statusCodes[Math.floor(service.httpRng() * http.statusCodes.length)]!;
      throw status === 503 ? errors.injectedUnavailable() : new ArmError(status, errors.injectedInternal().code, errors.injectedInternal().message);
    }

    const reply = await handler({ service, req, params, query: url.searchParams, base: baseUrl(req) });
    if (http.lostResponseRate > 0 && service.httpRng() < http.lostResponseRate) {
      // The call took effect, but the client never hears so: the case that makes retries create duplicates.
      service.counters.lostResponses++;
      throw errors.injectedInternal();
    }
    send(req, res, { ...reply, headers: { ...headers, ...reply.headers } });
  } catch (err) {
    const e = asArmError(err);
    send(req, res, { status: e.status, body: e.body(), headers: { ...headers, ...e.headers } });
  }
}
