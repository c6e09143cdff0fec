/**
 * HTTP triggers as the Functions host serves them: routes under the routePrefix
 * (`api/` by default), route parameters and methods, and authLevel keys taken from
 * the `x-functions-key` header or the `code` query parameter (401 without one).
 */
import http from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import type { RegisteredFunction } from "./core.js";
import type { RpcHttpData, RpcInvocationResponse, RpcTypedData } from "./coreTypes.js";
import { compileRoute, type CompiledRoute } from "./routes.js";

/**
 * The real host refuses bodies over 100 MB unless the app setting
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (bytes) says otherwise; so does this one. The limit is
 * enforced before anything is buffered: a larger Content-Length is refused at once, and
 * reading stops as soon as a body without one passes it.
 */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

export function maxRequestBodyBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  if (text === undefined || text === "") return DEFAULT_MAX_REQUEST_BODY_BYTES;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a whole number of bytes ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The Host names a local host answers to. A web page can reach a loopback server through
 * DNS rebinding (its own name resolving to 127.0.0.1), and then the Host header is that
 * name: refusing anything but loopback names closes that door.
 */
export function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return false;
  const name = (m[1] ?? m[2] ?? "").toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

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

/** Compares in constant time, length included: both sides are hashed to the same size first. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
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

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | "tooLarge"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return "tooLarge";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return "tooLarge";
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
  /** Bodies over this are refused with 413 before they are read (default: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, or 100 MB). */
  maxBodyBytes?: number;
  /** Host header check; the default accepts loopback names only (see isLoopbackHost). */
  allowHost?: (host: string | undefined) => boolean;
}): http.Server {
  const prefix = options.routePrefix ? `/${options.routePrefix}` : "";
  const maxBody = options.maxBodyBytes ?? maxRequestBodyBytes();
  const allowHost = options.allowHost ?? isLoopbackHost;
  return http.createServer(async (req, res) => {
    const send = (status: number, body: string | Buffer = "", headers: Record<string, string> = {}) => {
      if (!res.headersSent) res.writeHead(status, headers);
      res.end(body);
    };
    // The path alone goes to the log: the query may hold the function key (?code=).
    const logged = `${req.method} ${(req.url ?? "/").split("?")[0]!.slice(0, 200)}`;
    try {
      if (!allowHost(req.headers.host)) {
        // Closing the connection too: the client may still be sending a body nobody will read.
        res.setHeader("connection", "close");
        return send(400, "this host answers to loopback names only (localhost, 127.0.0.1, [::1])\n", { "content-type": "text/plain; charset=utf-8" });
      }
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
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
      const body = await readBody(req, maxBody);
      if (body === "tooLarge") {
        res.setHeader("connection", "close");
        return send(413, `the request body is larger than ${maxBody} bytes\n`, { "content-type": "text/plain; charset=utf-8" });
      }

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
      options.log("error", `HTTP ${logged}: ${(err as Error)?.stack ?? String(err)}`);
      send(500);
    }
  });
}
