/**
 * Findings of an attack on the local stack, each reproduced as it was found: the API's
 * answers and costs must not grow with what a caller sends, and errors never quote input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJobs } from "../../src/api/submit.js";
import type { ApiRequest } from "../../src/api/http.js";
import { startApiStack, type Api } from "./apiClient.js";
import type { Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

let stack: Stack;
let api: Api;
beforeAll(async () => {
  ({ stack, api } = await startApiStack({ pools: { default: { maxConcurrency: 1, resourceGroup: `rg-hard-${Date.now()}` } } }));
});
afterAll(async () => { await stack?.stop(); });

const spec = (extra: Record<string, unknown> = {}) => ({ image: "alpine", command: ["sh", "-c", "sleep 30"], timeoutSeconds: 60, ...extra });

describe("the API under hostile input", () => {
  it("filters labels by the job's own keys: ?label=constructor matches no job without that label", async () => {
    const plain = await api.post("/api/jobs", spec());
    const labelled = await api.post("/api/jobs", spec({ labels: { constructor: "yes" } }));
    for (const filter of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      const r = await api.get(`/api/jobs?label=${filter}`);
      expect(r.status).toBe(200);
      const ids = (r.json.jobs as { id: string }[]).map((j) => j.id);
      expect(ids).not.toContain(plain.json.id);
      if (filter === "constructor") expect(ids).toContain(labelled.json.id);
    }
  });

  it("answers 60,000 unknown fields with at most 100 details, a count of the rest, and a small body", async () => {
    const huge: Record<string, unknown> = spec();
    for (let i = 0; i < 60_000; i++) huge[`unknown${i}`] = 1;
    const r = await api.post("/api/jobs", huge);
    expect(r.status).toBe(400);
    const details = r.json.error.details as { field: string; rule: string }[];
    expect(details).toHaveLength(101);
    expect(details.at(-1)).toEqual({ field: "(more)", rule: "and 59900 more errors like these" });
    expect(r.text.length).toBeLessThan(20_000);
  });

  it("never quotes YAML in its errors, not even what an unresolved alias names", async () => {
    const secret = "S3CR3T-alias-name-1234567890";
    const r = await api.post("/api/jobs", `image: *${secret}\ntimeoutSeconds: 60\n`, { type: "application/yaml" });
    expect(r.status).toBe(400);
    expect(r.text).not.toContain(secret);
    expect(r.json.error.message).toContain("must be valid YAML");
    // The same text on the queue: the message is unreadable, and no log line quotes it.
    await stack.enqueueRaw(Buffer.from(`image: *${secret}\n`).toString("base64"));
    const output = await waitUntil(() => stack.hosts[0]!.output(), { what: "the host to log the unreadable message", until: (out) => /unreadable message.*must be valid YAML/.test(out) });
    expect(output).not.toContain(secret);
  });

  it("ends every job: a spec without timeoutSeconds gets the pool's default, and none may ask for more than its maximum", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "sleep 1"] });
    expect(r.status).toBe(202);
    expect((await api.get(`/api/jobs/${r.json.id}`)).json.spec.timeoutSeconds).toBe(3600);
    const tooLong = await api.post("/api/jobs", spec({ timeoutSeconds: 86_401 }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.details).toEqual([{ field: "timeoutSeconds", rule: "must be at most 86400 in pool default (its maxTimeoutSeconds); got 86401" }]);
  });

  it("refuses a priority above the pool's maxPriority, so nobody jumps every line", async () => {
    const r = await api.post("/api/jobs", spec({ priority: 1000 }));
    expect(r.status).toBe(400);
    expect(r.json.error.details).toEqual([{ field: "priority", rule: "must be at most 100 in pool default (its maxPriority); got 1000" }]);
    const id = await stack.enqueue(spec({ priority: 1000 }));
    expect((await stack.waitFor(id)).state).toBe("Rejected");
  });

  it("counts a pool's waiting line once per request, not once per spec", async () => {
    let counts = 0;
    const ledger = stack.deps.ledger;
    const original = ledger.countWaiting.bind(ledger);
    ledger.countWaiting = async (pool, upTo) => { counts++; return original(pool, upTo); };
    try {
      const body = JSON.stringify(Array.from({ length: 100 }, (_, i) => spec({ name: `bulk-${i}` })));
      const req: ApiRequest = {
        url: "http://localhost/api/jobs",
        headers: new Headers({ "content-type": "application/json", "content-length": String(body.length) }),
        query: new URLSearchParams(),
        params: {},
        arrayBuffer: async () => new TextEncoder().encode(body).buffer as ArrayBuffer,
      };
      const r = await submitJobs(stack.deps, req);
      expect(r.status).toBe(202);
      expect(r.jsonBody).toHaveLength(100);
      expect(counts).toBe(1);
    } finally {
      ledger.countWaiting = original;
    }
  });
});
