/**
 * Property-based hardening of every HTTP endpoint: wrong types, huge values, unicode,
 * deep nesting, oversized and malformed JSON/YAML bodies, hostile ids and query values.
 * Every answer must be a clear 4xx or a 2xx — never a 5xx — and the host must survive.
 * FUZZ_RUNS sets the cases per property (`npm run fuzz`: 3,500 each, 14,000 requests in all).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Stack } from "../support/harness.js";
import { Api, startApiStack } from "./apiClient.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

const hostileId = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom("../x", "..%2F..%2Fetc", "%2e%2e", "a/b", "j".repeat(5000), "%00", "jvalidlooking0001", "' or 1=1 --", "\u202e\u0000"),
  fc.string({ unit: "binary", maxLength: 80 }),
);

const deep = (depth: number): unknown => (depth === 0 ? "x" : { deep: deep(depth - 1) });
const jsonish = fc.oneof(
  fc.anything({ maxDepth: 4 }),
  fc.record({ image: fc.oneof(fc.string(), fc.constant("alpine")), cpu: fc.oneof(fc.double(), fc.string(), fc.constant(1e308)), command: fc.anything(), env: fc.dictionary(fc.string(), fc.anything()), secureEnv: fc.anything(), timeoutSeconds: fc.anything(), waitSeconds: fc.anything() }, { requiredKeys: [] }),
  fc.integer({ min: 100, max: 3000 }).map((n) => deep(n)),
  fc.array(fc.record({ image: fc.string() }), { maxLength: 150 }),
);

const body = fc.oneof(
  jsonish.map((v) => ({ text: JSON.stringify(v) ?? "null", type: "application/json" })),
  fc.string({ maxLength: 2000 }).map((t) => ({ text: t, type: "application/json" })),
  fc.string({ maxLength: 2000 }).map((t) => ({ text: t, type: "application/yaml" })),
  fc.constantFrom(
    { text: "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]", type: "text/yaml" },
    { text: `{"image":"${"a".repeat(2_000_000)}"}`, type: "application/json" },
    { text: "{\"image\": \"alpine\"", type: "application/json" },
    { text: "image: alpine", type: "text/plain" },
    { text: "image: alpine", type: "application/json; charset=latin1" },
  ),
  fc.tuple(fc.string({ maxLength: 200 }), fc.string({ maxLength: 40 })).map(([text, type]) => ({ text, type })),
);

const query = fc.dictionary(fc.oneof(fc.constantFrom("state", "pool", "label", "limit", "continuationToken", "follow", "offset", "wait", "attempt", "timestamps", "since", "until", "by"), fc.string({ maxLength: 10 })), fc.oneof(fc.string({ maxLength: 100 }), fc.integer().map(String), fc.constantFrom("-1", "1e99", "NaN", "true", "../", "%00")), { maxKeys: 4 });

describe("every HTTP endpoint under generated bad input", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => { ({ stack, api } = await startApiStack()); });
  afterAll(async () => { await stack?.stop(); });

  const expectClear = (status: number, what: string) => {
    expect(status, what).toBeLessThan(500);
    expect(status, what).toBeGreaterThanOrEqual(200);
  };

  it("answers POST /api/jobs and POST /api/run with a 2xx or a clear 4xx, never a 5xx", async () => {
    await fc.assert(fc.asyncProperty(body, fc.constantFrom("/api/jobs", "/api/run"), async (b, path) => {
      const r = await api.call("POST", path, { body: b.text, type: b.type, query: path === "/api/run" ? { waitSeconds: 0 } : undefined });
      expectClear(r.status, `${path} ${b.type} ${b.text.slice(0, 80)}`);
      if (r.status >= 400) expect(r.json?.error?.message, r.text.slice(0, 200)).toBeTruthy();
    }), { numRuns: RUNS });
  });

  it("answers every id route with a 2xx or a clear 4xx for hostile ids", async () => {
    await fc.assert(fc.asyncProperty(hostileId, fc.constantFrom("GET /", "GET /logs", "DELETE /"), query, async (id, route, q) => {
      const [method, suffix] = route.split(" ") as [string, string];
      const r = await api.call(method, `/api/jobs/${encodeURIComponent(id)}${suffix === "/" ? "" : suffix}`, { query: { ...q, wait: 0 } });
      expectClear(r.status, `${route} ${JSON.stringify(id).slice(0, 60)}`);
      expect([200, 202, 400, 404, 409]).toContain(r.status);
    }), { numRuns: RUNS });
  });

  it("answers the list, pools and costs routes with a 2xx or a clear 4xx for any query", async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom("/api/jobs", "/api/pools", "/api/costs"), query, async (path, q) => {
      const r = await api.call("GET", path, { query: q });
      expectClear(r.status, `${path}?${new URLSearchParams(q)}`);
    }), { numRuns: RUNS });
  });

  it("answers the poison routes with a 2xx or a clear 4xx for any queue name, query and body", async () => {
    const queue = fc.oneof(fc.constantFrom("jobs", "launch", "monitor", "pump", "exits"), hostileId);
    await fc.assert(fc.asyncProperty(queue, fc.constantFrom("GET", "POST redrive", "POST purge"), query, body, async (q, route, params, b) => {
      const [method, action] = route.split(" ") as [string, string | undefined];
      // A body that asks for nothing real: generated ids match no message, so nothing is moved.
      const r = await api.call(method, `/api/poison/${encodeURIComponent(q)}${action ? `/${action}` : ""}`, { query: params, ...(method === "POST" ? { body: b.text, type: b.type } : {}) });
      expectClear(r.status, `${route} ${JSON.stringify(q).slice(0, 60)} ${b.text.slice(0, 60)}`);
    }), { numRuns: RUNS });
  });

  it("keeps serving, and writes nothing outside Burst's own names", async () => {
    // Every generated case really went over the wire.
    expect(api.answers.length).toBeGreaterThanOrEqual(4 * RUNS);
    console.log(`fuzz: ${api.answers.length} requests, statuses ${JSON.stringify(Object.fromEntries([...new Set(api.answers.map((a) => a.status))].sort().map((st) => [st, api.answers.filter((a) => a.status === st).length])))}`);
    expect((await api.get("/api/pools")).status).toBe(200);
    // Every job record and log blob is under an id Burst made.
    for await (const job of stack.deps.jobs.scan()) expect(job.id).toMatch(/^[a-z0-9]{1,40}$/);
    const { BlobServiceClient } = await import("@azure/storage-blob");
    const logs = BlobServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getContainerClient(stack.deps.config.names.logsContainer);
    if (await logs.exists()) for await (const b of logs.listBlobsFlat()) expect(b.name).toMatch(/^jobs\/[a-z0-9]{1,40}\/attempt-\d+\.log(\.\d+)?$/);
  });
});
