/**
 * A fault proxy in front of Azurite, for the chaos suite: the hosts talk to Storage
 * through it, and it answers some requests itself with the throttling errors Azure
 * Storage sends under load (`503 ServerBusy`, `500 OperationTimedOut`), in each
 * service's own error format. A faulted request never reaches Azurite, so it changed
 * nothing, as with the real service's throttling. Everything else is forwarded as is.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type StorageService = "blob" | "queue" | "table";

export interface StorageFaults {
  /** Share of requests answered with a fault, 0..1. */
  rate: number;
  /** Until this time (epoch ms), every request is answered with a fault. */
  outageUntil: number;
}

export interface StorageProxy {
  ports: Record<StorageService, number>;
  faults: StorageFaults;
  /** Faults answered so far, by error code. */
  injected: { ServerBusy: number; OperationTimedOut: number };
  close(): Promise<void>;
}

function fault(service: StorageService, code: "ServerBusy" | "OperationTimedOut"): { status: number; type: string; body: string } {
  const status = code === "ServerBusy" ? 503 : 500;
  const message = code === "ServerBusy" ? "The server is busy." : "Operation could not be completed within the specified time.";
  if (service === "table") {
    return { status, type: "application/json;odata=minimalmetadata", body: JSON.stringify({ "odata.error": { code, message: { lang: "en-US", value: message } } }) };
  }
  return { status, type: "application/xml", body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` };
}

export async function startStorageProxy(upstream: Record<StorageService, number>, random: () => number): Promise<StorageProxy> {
  const faults: StorageFaults = { rate: 0, outageUntil: 0 };
  const injected = { ServerBusy: 0, OperationTimedOut: 0 };
  const servers: http.Server[] = [];
  const ports = {} as Record<StorageService, number>;
  for (const service of ["blob", "queue", "table"] as const) {
    const server = http.createServer((req, res) => {
      if (Date.now() < faults.outageUntil || (faults.rate > 0 && random() < faults.rate)) {
        const code = random() < 0.8 ? "ServerBusy" : "OperationTimedOut";
        injected[code]++;
        const f = fault(service, code);
        req.resume();
        res.writeHead(f.status, { "content-type": f.type, "x-ms-error-code": code, "content-length": String(Buffer.byteLength(f.body)) });
        res.end(f.body);
        return;
      }
      const forward = http.request({ host: "127.0.0.1", port: upstream[service], method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      // Azurite restarting: the client sees a dropped connection, as with a real outage.
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    ports[service] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    ports,
    faults,
    injected,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
    },
  };
}
