import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { Api, ended, startApiStack } from "./apiClient.js";

const quick = (extra: Record<string, unknown> = {}) => ({ image: "alpine", command: ["sh", "-c", "echo hi"], timeoutSeconds: 60, ...extra });

async function jobCount(stack: Stack): Promise<number> {
  let n = 0;
  for await (const _ of stack.deps.jobs.scan()) n++;
  return n;
}

describe("the jobs API", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-api-${Date.now()}` },
        tight: { maxConcurrency: 1, maxWaiting: 1, resourceGroup: `rg-tight-${Date.now()}` },
      },
    }));
  });
  afterAll(async () => { await stack?.stop(); });

  it("accepts one JSON spec with 202, its id and state and a Location, and runs it to the end", async () => {
    const r = await api.post("/api/jobs", quick({ name: "one" }));
    expect(r.status).toBe(202);
    expect(Object.keys(r.json).sort()).toEqual(["id", "state"]);
    expect(r.json.state).toBe("Waiting");
    expect(r.headers.get("location")).toBe(`/api/jobs/${r.json.id}`);
    const job = await api.waitFor(r.json.id, ended);
    expect(job).toMatchObject({ id: r.json.id, name: "one", state: "Succeeded", exitCode: 0 });
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]).toMatchObject({ n: 1, outcome: "Succeeded", exitCode: 0 });
    expect(job.costUsd).toBeGreaterThan(0);
    expect(typeof job.finishedAt).toBe("string");
  });

  it("accepts a YAML list and multi-document YAML, answering with an array in the order given", async () => {
    const list = await api.post("/api/jobs", "- image: alpine\n  command: [echo, a]\n  name: y1\n- image: alpine\n  command: [echo, b]\n  name: y2\n", { type: "application/yaml" });
    expect(list.status).toBe(202);
    expect(list.json.map((j: { state: string }) => j.state)).toEqual(["Waiting", "Waiting"]);
    const docs = await api.post("/api/jobs", "image: alpine\nname: d1\ncommand: [echo, c]\n---\nimage: alpine\nname: d2\ncommand: [echo, d]\n", { type: "text/yaml; charset=utf-8" });
    expect(docs.status).toBe(202);
    const names = await Promise.all([...list.json, ...docs.json].map(async (j: { id: string }) => (await api.get(`/api/jobs/${j.id}`)).json.name));
    expect(names).toEqual(["y1", "y2", "d1", "d2"]);
  });

  it("refuses a list holding any invalid spec with 400 naming each field by index, and creates nothing", async () => {
    const before = await jobCount(stack);
    const r = await api.post("/api/jobs", [quick(), { image: "alpine", cpu: 99 }, quick({ pool: "nope", bogus: 1 })]);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("InvalidSpec");
    const fields = r.json.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["[1].cpu", "[2].bogus"]));
    expect(r.json.error.message).toMatch(/\[1\]\.cpu must be at most 31 vCPU/);
    expect(await jobCount(stack)).toBe(before);
    // A valid spec naming an unconfigured pool is refused the same way, before anything is stored.
    const pool = await api.post("/api/jobs", [quick(), quick({ pool: "nope" })]);
    expect(pool.status).toBe(400);
    expect(pool.json.error.details).toEqual([{ field: "[1].pool", rule: expect.stringMatching(/configured pool/) }]);
    expect(await jobCount(stack)).toBe(before);
  });

  it("names the field without an index for a single spec, and says what is wrong with bad JSON or YAML", async () => {
    const one = await api.post("/api/jobs", { image: "Not An Image!", memoryGb: 0 });
    expect(one.status).toBe(400);
    expect(one.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["image", "memoryGb"]);
    const json = await api.post("/api/jobs", '{"image": "alpine",', { type: "application/json" });
    expect(json.status).toBe(400);
    expect(json.json.error.details[0]).toEqual({ field: "(body)", rule: expect.stringMatching(/^must be valid JSON/) });
    const yaml = await api.post("/api/jobs", "image: [alpine\n", { type: "application/yaml" });
    expect(yaml.status).toBe(400);
    expect(yaml.json.error.details[0].rule).toMatch(/^must be valid YAML/);
    const empty = await api.post("/api/jobs", [], {});
    expect(empty.status).toBe(400);
  });

  it("refuses a body over 1 MiB with 413 and a body that is not JSON or YAML with 415", async () => {
    const big = await api.post("/api/jobs", JSON.stringify({ image: "alpine", name: "x".repeat(1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("PayloadTooLarge");
    const form = await api.post("/api/jobs", "image=alpine", { type: "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(form.json.error.code).toBe("UnsupportedMediaType");
    const none = await api.post("/api/jobs", JSON.stringify(quick()), { type: null });
    expect(none.status).toBe(415);
    const latin1 = await api.post("/api/jobs", JSON.stringify(quick()), { type: "application/json; charset=iso-8859-1" });
    expect(latin1.status).toBe(415);
  });

  it("answers a repeated idempotencyKey with the same job, and the key with a different spec with 409, creating nothing", async () => {
    const key = `idem-${Date.now()}`;
    const first = await api.post("/api/jobs", quick({ idempotencyKey: key, secureEnv: { TOKEN: "a" } }));
    expect(first.status).toBe(202);
    const again = await api.post("/api/jobs", quick({ idempotencyKey: key, secureEnv: { TOKEN: "a" } }));
    expect(again.json.id).toBe(first.json.id);
    const before = await jobCount(stack);
    // A different command, and (separately) a different secure value: both are different requests.
    for (const other of [quick({ idempotencyKey: key, command: ["sh", "-c", "echo other"], secureEnv: { TOKEN: "a" } }), quick({ idempotencyKey: key, secureEnv: { TOKEN: "b" } })]) {
      const r = await api.post("/api/jobs", [quick({ name: "would be created" }), other]);
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe("IdempotencyConflict");
      expect(r.json.error.details).toEqual([{ id: first.json.id, index: 1, existingDigest: expect.stringMatching(/^[0-9a-f]{16}$/), givenDigest: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
      expect(r.json.error.details[0].existingDigest).not.toBe(r.json.error.details[0].givenDigest);
      expect(r.text).not.toContain('"b"');
    }
    expect(await jobCount(stack)).toBe(before);
  });

  it("lists jobs as summaries, filtered by state, pool and label, page by page", async () => {
    const specs = [1, 2, 3].map((i) => quick({ labels: { team: "lists", n: String(i) } }));
    const r = await api.post("/api/jobs", [...specs, quick({ labels: { team: "other" } })]);
    expect(r.status).toBe(202);
    const ids: string[] = r.json.map((j: { id: string }) => j.id);
    await Promise.all(ids.map((id) => api.waitFor(id, ended)));

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await api.get("/api/jobs", { query: { label: "team=lists", limit: 2, ...(token ? { continuationToken: token } : {}) } });
      expect(page.status).toBe(200);
      seen.push(...page.json.jobs.map((j: { id: string }) => j.id));
      token = page.json.continuationToken ?? undefined;
      pages++;
    } while (token && pages < 50);
    expect(seen.sort()).toEqual(ids.slice(0, 3).sort());
    expect(pages).toBeGreaterThan(1);

    const byKey = await api.get("/api/jobs", { query: { label: "team", limit: 1000 } });
    expect(byKey.json.jobs.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining(ids));
    const succeeded = await api.get("/api/jobs", { query: { state: "Succeeded", pool: "default", limit: 1000 } });
    expect(succeeded.json.jobs.every((j: { state: string; pool: string }) => j.state === "Succeeded" && j.pool === "default")).toBe(true);
    expect(succeeded.json.jobs.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining(ids));
    const summary = succeeded.json.jobs.find((j: { id: string }) => j.id === ids[0]);
    expect(summary).toMatchObject({ image: "alpine", attemptCount: 1, exitCode: 0, labels: { team: "lists", n: "1" } });
    const none = await api.get("/api/jobs", { query: { state: "Waiting", pool: "tight" } });
    expect(none.json.jobs).toEqual([]);
  });

  it("refuses bad query parameters with 400 naming each one", async () => {
    const r = await api.get("/api/jobs", { query: { state: "Runing", limit: 0, pool: "Bad Pool", stat: "Running" } });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("InvalidParameter");
    expect(r.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["limit", "pool", "stat", "state"]);
    expect(r.json.error.message).toMatch(/state must be one of Waiting, .*\(got "Runing"\)/);
    const token = await api.get("/api/jobs", { query: { continuationToken: "bm90IGEgdG9rZW4=" } });
    expect(token.status).toBe(400);
    expect(token.json.error.details[0].field).toBe("continuationToken");
  });

  it("cancels a running job with 202, answers 409 once it has finished and 404 for a job that does not exist", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo start; sleep 60"], timeoutSeconds: 120 });
    await api.waitFor(r.json.id, (j) => j.state === "Running");
    const cancel = await api.delete(`/api/jobs/${r.json.id}`);
    expect(cancel.status).toBe(202);
    expect(cancel.json.id).toBe(r.json.id);
    const job = await api.waitFor(r.json.id, ended);
    expect(job.state).toBe("Canceled");
    const again = await api.delete(`/api/jobs/${r.json.id}`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("JobFinished");
    const unknown = await api.delete("/api/jobs/jdoesnotexist");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("JobNotFound");
    expect((await api.get("/api/jobs/jdoesnotexist")).status).toBe(404);
    expect((await api.get("/api/jobs/jdoesnotexist/logs")).status).toBe(404);
  });

  it("answers hostile ids with 400 or 404, never a server error", async () => {
    const hostile = ["..%2Fx", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "a".repeat(5000), "%00", "J123", "x'%20or%20'1'%3D'1", "%252e%252e", "%E2%80%AE", "-", "%ZZ"];
    for (const id of hostile) {
      for (const [method, suffix] of [["GET", ""], ["DELETE", ""], ["GET", "/logs"], ["GET", "/logs?follow=true&wait=0"]] as const) {
        const r = await api.call(method, `/api/jobs/${id}${suffix}`);
        expect([400, 404], `${method} ${id.slice(0, 40)}${suffix} → ${r.status}`).toContain(r.status);
      }
    }
  });

  it("answers 429 when a pool's waiting line is full, with nothing created, and lets the submission through once there is room", async () => {
    const long = { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120, pool: "tight" };
    const first = await api.post("/api/jobs", long);
    await api.waitFor(first.json.id, (j) => j.state === "Running");
    // The one slot is taken: the next jobs wait, up to the line's limit.
    const waiting: string[] = [];
    let busy;
    for (let i = 0; i < 5; i++) {
      const r = await api.post("/api/jobs", long);
      if (r.status === 429) { busy = r; break; }
      expect(r.status).toBe(202);
      waiting.push(r.json.id);
    }
    // maxWaiting is 1: one job waits, the next is turned away.
    expect(waiting).toHaveLength(1);
    expect(busy?.json.error.code).toBe("PoolBusy");
    expect(busy?.headers.get("retry-after")).toBe("30");
    const before = await jobCount(stack);
    const batch = await api.post("/api/jobs", [long, long]);
    expect(batch.status).toBe(429);
    expect(await jobCount(stack)).toBe(before);
    for (const id of [first.json.id, ...waiting]) expect((await api.delete(`/api/jobs/${id}`)).status).toBe(202);
    const after = await api.post("/api/jobs", long);
    expect(after.status).toBe(202);
    await api.delete(`/api/jobs/${after.json.id}`);
  });
});
