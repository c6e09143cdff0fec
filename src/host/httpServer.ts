/**
 * HTTP triggers as the Functions host serves them: routes under the routePrefix
 * (`api/` by default), route parameters and methods, and authLevel keys taken from
 * the `x-functions-key` header or the `code` query parameter (401 without one).
 */
import http from "node:http";
import { timingSafeEqual } from "node:crypto";
import type { RegisteredFunction } from "./core.js";
import type { RpcHttpData, RpcInvocationResponse, RpcTypedData } from "./coreTypes.js";
import { compileRoute, type CompiledRoute } from "./routes.js";

/** The real host refuses bodies over 100 MB (maxRequestBodySize). */
export const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

export interface HttpKeys {
  /** Keys accepted for authLevel "function". */
  functionKeys: string[];
  /** The master key, accepted for every level and the only one for "admin". */
  masterKey: string;
}

interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  methods: Set<string>;
  authLevel: "anonymous" | "function" | "admin";
}

export type HttpInvoker = (fn: RegisteredFunction, request: RpcHttpData) => Promise<RpcInvocationResponse>;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function httpRoutes(functions: Iterable<RegisteredFunction>): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of functions) {
    for (const b of Object.values(fn.metadata.bindings)) {
      if (String(b.type).toLowerCase() !== "httptrigger") continue;
      const methods = (b.methods as string[] | undefined) ?? ["GET", "POST"];
      routes.push({
        fn,
        route: compileRoute(typeof b.route === "string" ? b.route : fn.metadata.name),
        methods: new Set(methods.map((m) => m.toUpperCase())),
        authLevel: ((b.authLevel as string | undefined)?.toLowerCase() ?? "anonymous") as HttpRoute["authLevel"],
      });
    }
  }
  // Literal-heavy routes first, so "jobs/stats" wins over "jobs/{id}".
  const weight = (t: string) => t.split("/").filter((s) => !s.startsWith("{")).length;
  return routes.sort((a, b) => weight(b.route.template) - weight(a.route.template));
}

function authorized(level: HttpRoute["authLevel"], key: string | null, keys: HttpKeys): boolean {
  if (level === "anonymous") return true;
  if (!key) return false;
  if (sameSecret(key, keys.masterKey)) return true;
  return level === "function" && keys.functionKeys.some((k) => sameSecret(key, k));
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | "tooLarge"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BODY_BYTES) return "tooLarge";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function httpOutput(fn: RegisteredFunction, res: RpcInvocationResponse): RpcHttpData | undefined {
  for (const [name, b] of Object.entries(fn.metadata.bindings)) {
    if (b.direction !== "out" || String(b.type).toLowerCase() !== "http") continue;
    const data: RpcTypedData | null | undefined =
      name === "$return" ? res.returnValue : res.outputData?.find((o) => o.name === name)?.data;
    if (data?.http) return data.http;
  }
  return undefined;
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  if (body.bytes) return Buffer.from(body.bytes);
  if (body.string != null) return Buffer.from(body.string);
  if (body.json != null) return Buffer.from(body.json);
  return Buffer.alloc(0);
}

export function createHttpServer(options: {
  routePrefix: string;
  routes: () => HttpRoute[];
  keys: HttpKeys;
  invoke: HttpInvoker;
  log(level: "information" | "warning" | "error", message: string): void;
}): http.Server {
  const prefix = options.routePrefix ? `/${options.routePrefix}` : "";
  return http.createServer(async (req, res) => {
    const send = (status: number, body: string | Buffer = "", headers: Record<string, string> = {}) => {
      if (!res.headersSent) res.writeHead(status, headers);
      res.end(body);
    };
    try {
      const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
      const method = (req.method ?? "GET").toUpperCase();
      const path = url.pathname;
      if (prefix && !(path.toLowerCase() === prefix || path.toLowerCase().startsWith(`${prefix}/`))) return send(404);
      const rest = path.slice(prefix.length);
      let found: { r: HttpRoute; params: Record<string, string> } | undefined;
      for (const r of options.routes()) {
        if (!r.methods.has(method)) continue;
        const params = r.route.match(rest);
        if (params) { found = { r, params }; break; }
      }
      if (!found) return send(404);
      const key = (req.headers["x-functions-key"] as string | undefined) ?? url.searchParams.get("code");
      if (!authorized(found.r.authLevel, key, options.keys)) return send(401);
      const body = await readBody(req);
      if (body === "tooLarge") return send(413);

      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const response = await options.invoke(found.r.fn, {
        method,
        url: url.toString(),
        headers,
        query,
        params: found.params,
        body: body.length > 0 && method !== "GET" && method !== "HEAD" ? { bytes: body } : null,
      });
      const out = httpOutput(found.r.fn, response);
      if (!out) return send(204);
      const outHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.headers ?? {})) outHeaders[k] = v;
      send(Number(out.statusCode ?? 200), bodyBytes(out.body), outHeaders);
    } catch (err) {
      options.log("error", `HTTP ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      send(500);
    }
  });
}
