/**
 * The emulator's own endpoints under /_emulator/ (not ARM): ground truth for tests,
 * fault injection and limits at runtime. RunningEmulator's methods do the same in-process.
 *
 *   GET  /_emulator/stats                 counters, peaks, groups alive, billing meters
 *   POST /_emulator/reset                 delete every group, kill processes, zero counters
 *   GET|PUT /_emulator/faults             PUT replaces the fault configuration (omitted = off)
 *   GET|PUT /_emulator/limits             PUT merges into the current limits
 *   GET|PUT /_emulator/timings            PUT merges into the current lifecycle timings
 *   GET|PUT /_emulator/fidelity           PUT merges: which recorded live shape answers follow
 *   GET|PUT /_emulator/costs              PUT merges: the Cost Management report's delay and prices
 *   POST /_emulator/groups/{sub}/{rg}/{name}/platform-restart[?container=c]
 *   POST /_emulator/groups/{sub}/{rg}/{name}/evict
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, describeFaults } from "./config.js";
import { ArmError } from "./errors.js";
import { match, readJson, send, type Reply } from "./http.js";
import type { AciService } from "./service.js";
import { buildStats } from "./stats.js";

export async function handleAdmin(service: AciService, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent).slice(1);
  try {
    send(req, res, await route(service, req, method, segments, url));
  } catch (err) {
    const status = err instanceof ConfigError ? 400 : err instanceof ArmError ? err.status : 500;
    const code = err instanceof ArmError ? err.code : err instanceof ConfigError ? "InvalidEmulatorRequest" : "EmulatorError";
    send(req, res, { status, body: { error: { code, message: err instanceof Error ? err.message : String(err) } } });
  }
}

async function route(service: AciService, req: IncomingMessage, method: string, segments: string[], url: URL): Promise<Reply> {
  const path = segments.join("/");
  const is = (m: string, p: string) => method === m && path === p;
  if (is("GET", "") ) return { status: 200, body: { emulator: "aci", apiVersion: "2023-05-01", runtime: service.runtime.kind } };
  if (is("GET", "stats")) return { status: 200, body: buildStats(service.runtime.kind, service.counters, service.groups.values(), service.ledger, service.clock.now()) };
  if (is("POST", "reset")) return (await service.reset(), { status: 204 });
  if (is("GET", "faults")) return { status: 200, body: describeFaults(service.faults) };
  if (is("PUT", "faults")) return { status: 200, body: describeFaults(service.setFaults(await readJson(req))) };
  if (is("GET", "limits")) return { status: 200, body: service.limits };
  if (is("PUT", "limits")) return { status: 200, body: service.setLimits(await readJson(req)) };
  if (is("GET", "timings")) return { status: 200, body: service.timings };
  if (is("PUT", "timings")) return { status: 200, body: service.setTimings(await readJson(req)) };
  if (is("GET", "fidelity")) return { status: 200, body: service.fidelity };
  if (is("PUT", "fidelity")) return { status: 200, body: service.setFidelity(await readJson(req)) };
  if (is("GET", "costs")) return { status: 200, body: service.costs };
  if (is("PUT", "costs")) return { status: 200, body: service.setCosts(await readJson(req)) };
  let p: Record<string, string> | undefined;
  if (method === "POST" && (p = match("groups/:sub/:rg/:name/platform-restart", segments))) {
    const g = service.find(p.sub!, p.rg!, p.name!);
    return { status: 200, body: { restarted: g.platformRestart(url.searchParams.get("container") ?? undefined) } };
  }
  if (method === "POST" && (p = match("groups/:sub/:rg/:name/evict", segments))) {
    const g = service.find(p.sub!, p.rg!, p.name!);
    return { status: 200, body: { evicted: await g.evict() } };
  }
  return { status: 404, body: { error: { code: "NotFound", message: `no emulator endpoint ${method} /_emulator/${path}` } } };
}
