import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { Api, ended, startApiStack } from "./apiClient.js";

describe("job logs over HTTP", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-logs-${Date.now()}` },
        // The monitor's first poll comes 10 s after launch here, so early output can only come from a follower's refresh.
        slow: { maxConcurrency: 2, minPollSeconds: 10, maxPollSeconds: 15, resourceGroup: `rg-slow-${Date.now()}` },
      },
    }));
  });
  afterAll(async () => { await stack?.stop(); });

  it("serves many followers of one job with one watch: the record is read per tick, not per follower per tick", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "sleep 30"], timeoutSeconds: 60 });
    await api.waitFor(r.json.id, (j) => j.state === "Running");
    const { followLog } = await import("../../src/api/logs.js");
    let reads = 0;
    const deps = { ...stack.deps, jobs: { ...stack.deps.jobs, get: (id: string) => { reads++; return stack.deps.jobs.get(id); } } };
    const followers = 20;
    const chunks = await Promise.all(Array.from({ length: followers }, () => followLog(deps, r.json.id, { offset: 0, timestamps: false, waitSeconds: 3 })));
    expect(chunks.every((c) => c.text === "" && !c.complete)).toBe(true);
    // Each follower's first read, plus one watch for all of them (3 s at 0.4 s a tick). It was 20 × 8.
    expect(reads).toBeLessThan(followers + 15);
    await api.delete(`/api/jobs/${r.json.id}`);
  });

  it("refuses a follower past the job's limit with 429, and answers a plain read as always", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "sleep 30"], timeoutSeconds: 60 });
    await api.waitFor(r.json.id, (j) => j.state === "Running");
    const { followLog, MAX_FOLLOWERS_PER_JOB } = await import("../../src/api/logs.js");
    const held = Array.from({ length: MAX_FOLLOWERS_PER_JOB }, () => followLog(stack.deps, r.json.id, { offset: 0, timestamps: false, waitSeconds: 3 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(followLog(stack.deps, r.json.id, { offset: 0, timestamps: false, waitSeconds: 3 })).rejects.toMatchObject({ status: 429, code: "TooManyFollowers" });
    await Promise.all(held);
    expect((await api.get(`/api/jobs/${r.json.id}/logs`)).status).toBe(200);
    await api.delete(`/api/jobs/${r.json.id}`);
  });

  it("serves a finished job's output as text/plain, without timestamps unless asked", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo first line; echo second line"], timeoutSeconds: 60 });
    await api.waitFor(r.json.id, ended);
    const plain = await api.get(`/api/jobs/${r.json.id}/logs`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(plain.text).toBe("first line\nsecond line\n");
    expect(plain.headers.get("x-burst-log-complete")).toBe("true");
    expect(plain.headers.get("x-burst-job-ended")).toBe("true");
    const stamped = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { timestamps: true } });
    expect(stamped.text.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z first line$/),
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z second line$/),
    ]);
    // Offsets count stored bytes, so a read from the middle gives the rest either way.
    const firstLength = Buffer.byteLength(`${stamped.text.split("\n")[0]}\n`);
    const rest = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { offset: firstLength } });
    expect(rest.text).toBe("second line\n");
    expect(rest.headers.get("x-burst-log-offset")).toBe(String(Buffer.byteLength(stamped.text)));
  });

  it("shows every attempt with a separator line, or one attempt with ?attempt=N", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo trying; exit 3"], retries: 1, timeoutSeconds: 60 });
    const job = await api.waitFor(r.json.id, ended);
    expect(job.state).toBe("Failed");
    expect(job.attempts).toHaveLength(2);
    const all = await api.get(`/api/jobs/${r.json.id}/logs`);
    expect(all.text).toBe("trying\n--- attempt 2 ---\ntrying\n");
    const second = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { attempt: 2 } });
    expect(second.text).toBe("trying\n");
    const third = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { attempt: 3 } });
    expect(third.status).toBe(400);
    expect(third.json.error.details[0]).toMatchObject({ field: "attempt", rule: expect.stringMatching(/from 1 to 2/) });
    const bad = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: "yes", offset: -1, wait: 99, since: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["follow", "offset", "since", "wait"]);
  });

  it("follows a running job: lines arrive while it runs, and the last answer says the log is complete", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo one; sleep 8; echo two; sleep 1; echo three"], timeoutSeconds: 60 });
    let offset = 0;
    let text = "";
    let sawLineWhileRunning = false;
    let last;
    for (let i = 0; i < 100; i++) {
      last = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: true, offset } });
      expect(last.status).toBe(200);
      text += last.text;
      offset = Number(last.headers.get("x-burst-log-offset"));
      if (text.includes("one") && !text.includes("two")) {
        // The first line is here; the job (sleeping 8 s before its second line) must still be running.
        const job = await api.get(`/api/jobs/${r.json.id}`);
        if (job.json.state === "Running") sawLineWhileRunning = true;
      }
      if (last.headers.get("x-burst-log-complete") === "true") break;
    }
    expect(sawLineWhileRunning).toBe(true);
    expect(text).toBe("one\ntwo\nthree\n");
    expect(last!.headers.get("x-burst-job-ended")).toBe("true");
    expect(last!.headers.get("x-burst-job-state")).toBe("Succeeded");
    // After the end, following from the final offset answers at once: nothing new, complete.
    const after = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: true, offset } });
    expect(after.text).toBe("");
    expect(after.headers.get("x-burst-log-complete")).toBe("true");
    const job = await api.get(`/api/jobs/${r.json.id}`);
    expect(job.json.log.lines).toBe(3);
  });

  it("a follower copies a running job's new output itself when the monitor has not yet, without counting a line twice", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo early; sleep 14; echo late"], timeoutSeconds: 60, pool: "slow" });
    let offset = 0;
    let text = "";
    for (let i = 0; i < 30 && !text; i++) {
      const got = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: true, offset } });
      text += got.text;
      offset = Number(got.headers.get("x-burst-log-offset"));
    }
    expect(text).toBe("early\n");
    const job = (await api.get(`/api/jobs/${r.json.id}`)).json;
    // The monitor has not read this job's log yet: the line reached storage through the follower.
    expect(job.state).toBe("Running");
    expect(job.lastLogReadAt).toBeUndefined();
    expect(job.log.lines).toBe(1);
    await api.delete(`/api/jobs/${r.json.id}`);
    const ended_ = await api.waitFor(r.json.id, ended);
    expect(ended_.log.lines).toBe((await api.get(`/api/jobs/${r.json.id}/logs`)).text.split("\n").filter(Boolean).length);
  });

  it("answers a follow with nothing new after the wait, keeping the offset", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo hello; sleep 30"], timeoutSeconds: 60 });
    await api.waitFor(r.json.id, (j) => j.state === "Running" && j.startedAt !== undefined);
    let offset = 0;
    for (let i = 0; i < 20 && offset === 0; i++) {
      const got = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: true, offset, wait: 2 } });
      offset = Number(got.headers.get("x-burst-log-offset"));
    }
    expect(offset).toBeGreaterThan(0);
    const idle = await api.get(`/api/jobs/${r.json.id}/logs`, { query: { follow: true, offset, wait: 1 } });
    expect(idle.status).toBe(200);
    expect(idle.text).toBe("");
    expect(idle.headers.get("x-burst-log-offset")).toBe(String(offset));
    expect(idle.headers.get("x-burst-log-complete")).toBe("false");
    expect(idle.headers.get("x-burst-job-ended")).toBe("false");
    await api.delete(`/api/jobs/${r.json.id}`);
    await api.waitFor(r.json.id, ended);
  });
});
