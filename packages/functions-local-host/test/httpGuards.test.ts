/**
 * What the local host refuses before a function runs: Host names other than loopback ones
 * (DNS rebinding), and bodies over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, which it must not
 * buffer. And what it never logs: the function key in a query string.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FIXTURE_APP, startHostProcess, uniqueName, type HostProcess } from "./support.js";

const appDir = FIXTURE_APP;
const KEY = "fixture-key-that-must-not-be-logged";

/** A raw request, so Host and Content-Length are exactly what the test says; resolves with the status. */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string | number>; body?: string; keepOpen?: boolean }): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: options.method ?? "GET", path: options.path, headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => { resolve({ status: res.statusCode!, body }); req.destroy(); });
    });
    req.on("error", reject);
    if (options.body) req.write(options.body);
    // keepOpen: the client never finishes its body, as a slow or hostile sender would not.
    if (!options.keepOpen) req.end();
  });
}

describe("the local host's guards", () => {
  let host: HostProcess;
  beforeAll(async () => {
    host = await startHostProcess({
      appDir,
      env: {
        AzureWebJobsStorage: inject("storageConnectionString"),
        WORK_QUEUE: uniqueName("work"), RESULTS_QUEUE: uniqueName("results"), TRACE_QUEUE: uniqueName("trace"),
        TICK_SCHEDULE: "0 0 0 1 1 *",
        BURST_API_KEY: KEY,
        BURST_HOST_ID: uniqueName("host"),
        FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: "1024",
      },
    });
  });
  afterAll(async () => { await host?.stop(); });

  it("answers loopback Host names and refuses any other with 400, as a DNS-rebinding page would send", async () => {
    const port = new URL(host.url).port;
    for (const name of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await raw(host.url, { path: "/api/open", headers: { host: name } })).status).toBe(203);
    }
    for (const name of [`attacker.example:${port}`, "192.168.1.10", "localhost.attacker.example", "127.0.0.1.attacker.example"]) {
      expect((await raw(host.url, { path: "/api/open", headers: { host: name } })).status).toBe(400);
    }
  });

  it("refuses a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT from its Content-Length, before the body is even sent", async () => {
    const r = await raw(host.url, { method: "POST", path: `/api/echo/x?code=${KEY}`, headers: { "content-length": 50_000_000, "content-type": "text/plain" }, body: "a".repeat(100), keepOpen: true });
    expect(r.status).toBe(413);
    expect(r.body).toContain("1024 bytes");
  });

  it("stops reading a body without a length as soon as it passes the limit", async () => {
    const r = await raw(host.url, { method: "POST", path: `/api/echo/x?code=${KEY}`, headers: { "transfer-encoding": "chunked", "content-type": "text/plain" }, body: "b".repeat(4096), keepOpen: true });
    expect(r.status).toBe(413);
    const ok = await raw(host.url, { method: "POST", path: `/api/echo/x?code=${KEY}`, headers: { "content-type": "text/plain" }, body: "small" });
    expect(ok.status).toBe(200);
  });

  it("never writes a function key given in the query string to its log", async () => {
    await raw(host.url, { path: `/api/boom?code=${KEY}` });
    await raw(host.url, { path: `/api/echo/x?code=${KEY}`, headers: { host: "attacker.example" } });
    // A Host no URL can be built from: this once failed with a 500 whose log line carried ?code=.
    expect((await raw(host.url, { path: `/api/echo/x?code=${KEY}`, headers: { host: "bad host" } })).status).toBe(400);
    await raw(host.url, { path: `/api/echo/x?code=${KEY}` });
    expect(host.output()).not.toContain(KEY);
  });
});
