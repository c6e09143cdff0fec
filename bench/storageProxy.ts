/**
 * Storage transactions, counted on the wire: a small HTTP proxy in front of Azurite's
 * three services. Burst's host is given the proxy's connection string, the benchmark's
 * own submissions and scans go to Azurite directly, so what is counted is what the
 * deployment itself would be billed for. Each request is one billable transaction (a
 * table batch is one, as Azure bills it), classified by service and operation.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { connectionStringFor, type AzuritePorts } from "../tools/launcher/azurite.js";

export type Service = "table" | "queue" | "blob";

export interface StorageCounts {
  total: number;
  byService: Record<Service, number>;
  /** "<service> <operation>", e.g. "queue get-messages", "table query". */
  byOperation: Record<string, number>;
  /** "<service> <table, queue or container> <operation>", e.g. "table burstJobs update": where the transactions go. */
  byResource: Record<string, number>;
  /** The same keys as byResource: milliseconds from request to response, summed. Azurite's time per operation, as seen from the host. */
  msByResource: Record<string, number>;
  /** Keyed table operations by the kind of row (its RowKey's leading letters), e.g. "table burstLedger[admission] get". */
  byRow: Record<string, number>;
}

/** A keyed table request's row kind: the leading letters of its RowKey ("admission", "cost", "wait", "job"), or "". */
export function rowKindOf(rawUrl: string): string {
  const m = /RowKey='([^']*)'/.exec(decodeURIComponent(new URL(rawUrl, "http://x").pathname));
  return m ? (/^[A-Za-z~]*/.exec(m[1]!)?.[0] ?? "") || "#" : "";
}

export interface StorageProxy {
  connectionString: string;
  counts(): StorageCounts;
  reset(): void;
  stop(): Promise<void>;
}

/** The table, queue or blob container a request is about (the first path segment, less a table's key). */
export function resourceOf(rawUrl: string): string {
  const first = decodeURIComponent(new URL(rawUrl, "http://x").pathname).split("/").filter(Boolean)[1] ?? "";
  return first.replace(/\(.*$/, "") || "-";
}

/** The operation a request is, by REST shape (Azure Storage REST API: Table, Queue and Blob service operations). */
export function operationOf(service: Service, method: string, rawUrl: string): string {
  const url = new URL(rawUrl, "http://x");
  const path = decodeURIComponent(url.pathname);
  const comp = url.searchParams.get("comp");
  if (service === "table") {
    if (path.endsWith("/$batch")) return "batch";
    if (/\/Tables(\(|$)/.test(path)) return method === "GET" ? "list-tables" : method === "POST" ? "create-table" : "delete-table";
    const keyed = /\(PartitionKey=.*\)$/.test(path);
    if (method === "GET") return keyed ? "get" : "query";
    if (method === "POST") return "insert";
    if (method === "PUT" || method === "MERGE" || method === "PATCH") return "update";
    if (method === "DELETE") return "delete";
  }
  if (service === "queue") {
    if (comp === "metadata") return method === "GET" || method === "HEAD" ? "get-metadata" : "set-metadata";
    if (/\/messages\/[^/]+$/.test(path)) return method === "DELETE" ? "delete-message" : "update-message";
    if (path.endsWith("/messages")) {
      if (method === "POST") return "put-message";
      if (method === "DELETE") return "clear";
      return url.searchParams.get("peekonly") === "true" ? "peek-messages" : "get-messages";
    }
    if (comp === "list") return "list-queues";
    return method === "PUT" ? "create-queue" : method === "DELETE" ? "delete-queue" : `${method.toLowerCase()}-queue`;
  }
  if (comp) return `${method.toLowerCase()}-${comp}`;
  return method === "GET" ? "read" : method === "PUT" ? "write" : method === "DELETE" ? "delete" : method.toLowerCase();
}

function add(to: Record<string, number>, key: string, n: number): void {
  to[key] = (to[key] ?? 0) + n;
}

export async function startStorageProxy(target: AzuritePorts): Promise<StorageProxy> {
  const empty = (): StorageCounts => ({
    total: 0,
    byService: { table: 0, queue: 0, blob: 0 },
    byOperation: {},
    byResource: {},
    msByResource: {},
    byRow: {},
  });
  let counts = empty();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const servers: http.Server[] = [];
  const ports = {} as AzuritePorts;
  for (const service of ["blob", "queue", "table"] as const) {
    const server = http.createServer((req, res) => {
      const url = req.url ?? "/";
      const operation = operationOf(service, req.method ?? "GET", url);
      const op = `${service} ${operation}`;
      const resource = resourceOf(url);
      counts.total++;
      counts.byService[service]++;
      add(counts.byOperation, op, 1);
      const where = `${service} ${resource} ${operation}`;
      add(counts.byResource, where, 1);
      const row = service === "table" ? rowKindOf(url) : "";
      if (row) add(counts.byRow, `${service} ${resource}[${row}] ${operation}`, 1);
      const began = performance.now();
      // Into the counts this request was counted in, should they be reset before it ends.
      const tally = counts;
      res.once("finish", () => add(tally.msByResource, where, performance.now() - began));
      const upstream = http.request(
        { host: "127.0.0.1", port: target[service], method: req.method, path: req.url, headers: req.headers, agent },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports[service] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    connectionString: connectionStringFor(ports),
    counts: () => structuredClone(counts),
    reset: () => {
      counts = empty();
    },
    async stop() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      agent.destroy();
    },
  };
}
