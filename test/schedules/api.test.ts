/**
 * Schedules through the local stack: three hosts share storage, with the schedule timer
 * every second on the real clock (the host runs a timer on one instance at a time, as
 * Azure's does; firing.test.ts has checks from several instances at once); the API and
 * the CLI manage schedules.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ended, startApiStack, type Api } from "../api/apiClient.js";
import { cli } from "../cli/cli.js";
import type { Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

let stack: Stack;
let api: Api;
let env: Record<string, string>;
const job = { image: "busybox", command: ["true"], cpu: 0.5, memoryGb: 0.5 };

beforeAll(async () => {
  ({ stack, api } = await startApiStack({ hosts: 3, env: { BURST_SCHEDULE_CHECK: "* * * * * *" } }));
  env = { BURST_URL: stack.hosts[0]!.url, BURST_API_KEY: api.key };
});

afterAll(async () => {
  await stack?.stop();
});

describe("schedules through the API", () => {
  it("run on their cron with three hosts sharing storage, one job per tick, each labelled with the schedule", async () => {
    const created = await api.post("/api/schedules", { name: "every-2s", cron: "*/2 * * * * *", job });
    expect(created.status).toBe(201);
    expect(created.json.nextRuns).toHaveLength(5);
    const fired = (v: { history: { outcome: string }[] }) => v.history.filter((h) => h.outcome === "fired");
    await waitUntil(async () => (await api.get("/api/schedules/every-2s")).json, {
      what: "three runs of every-2s",
      until: (v) => fired(v).length >= 3,
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    expect((await api.post("/api/schedules/every-2s/suspend", undefined)).json.suspend).toBe(true);
    const view = (await api.get("/api/schedules/every-2s")).json;
    const runs = fired(view) as { tick: string; jobId: string }[];
    expect(new Set(runs.map((r) => r.tick)).size).toBe(runs.length);
    const jobs = (await api.get("/api/jobs", { query: { label: "burst-schedule=every-2s" } })).json.jobs as { id: string }[];
    expect(jobs.map((j) => j.id).sort()).toEqual(runs.map((r) => r.jobId).sort());
    expect(view.nextRuns).toEqual([]);
    // A run is an ordinary job: it runs to the end and is costed.
    const first = await api.waitFor(runs.at(-1)!.jobId, ended);
    expect(first).toMatchObject({ state: "Succeeded", labels: { "burst-schedule": "every-2s" } });
  });

  it("refuses a bad definition with the field, the rule and the value, and stores nothing", async () => {
    const bad = await api.post("/api/schedules", { name: "bad", cron: "61 * * * *", timeZone: "Mars/Olympus", job: { ...job, cpu: 99 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: { field: string }) => d.field)).toEqual(["timeZone", "job.cpu"]);
    expect(bad.json.error.message).toContain('"Mars/Olympus"');
    const cron = await api.post("/api/schedules", { name: "bad", cron: "61 * * * *", job });
    expect(cron.json.error.details).toEqual([{ field: "cron", rule: expect.stringContaining('"61 * * * *"') }]);
    const secure = await api.post("/api/schedules", { name: "bad", cron: "* * * * *", job: { ...job, secureEnv: { TOKEN: "x" } } });
    expect(secure.json.error.details.map((d: { field: string }) => d.field)).toEqual(["job.secureEnv"]);
    expect((await api.get("/api/schedules/bad")).status).toBe(404);
  });

  it("answers 401 on every schedule route without the key, and changes nothing", async () => {
    const routes: [string, string][] = [
      ["POST", "/api/schedules"],
      ["GET", "/api/schedules"],
      ["GET", "/api/schedules/every-2s"],
      ["DELETE", "/api/schedules/every-2s"],
      ["POST", "/api/schedules/every-2s/suspend"],
      ["POST", "/api/schedules/every-2s/resume"],
      ["POST", "/api/schedules/every-2s/trigger"],
    ];
    for (const [method, path] of routes) {
      const r = await api.call(method, path, {
        key: null,
        body: method === "POST" ? { name: "sneaky", cron: "* * * * *", job } : undefined,
      });
      expect(r.status, `${method} ${path}`).toBe(401);
    }
    expect((await api.get("/api/schedules")).json.schedules.map((s: { name: string }) => s.name)).toEqual(["every-2s"]);
  });
});

describe("burst schedule", () => {
  it("creates, shows the next five runs, triggers a run now, suspends, resumes and deletes", async () => {
    const file = path.join(tmpdir(), `schedule-${stack.prefix}.yaml`);
    writeFileSync(file, "image: busybox\ncommand: [echo, hello]\ncpu: 0.5\nmemoryGb: 0.5\n");
    const create = await cli(
      ["schedule", "create", "nightly", "--cron", "0 2 * * *", "--tz", "Europe/Paris", "--concurrency", "Forbid", file],
      env,
    );
    expect(create.stderr).toBe("");
    expect(create.stdout).toMatch(/^schedule nightly created; next run \d{4}-\d\d-\d\dT01:00:00\.000Z\n$/);
    const dup = await cli(["schedule", "create", "nightly", "--cron", "0 2 * * *", file], env);
    expect(dup).toMatchObject({ code: 1, stderr: expect.stringContaining("already exists") });

    const show = await cli(["schedule", "show", "nightly"], env);
    const next = /next runs:\s+(.*)\n/.exec(show.stdout)![1]!.split(", ");
    expect(next).toHaveLength(5);
    expect(next.every((t) => t.endsWith("T01:00:00.000Z"))).toBe(true);
    expect((await cli(["schedule", "ls"], env)).stdout).toMatch(/nightly\s+0 2 \* \* \*\s+Europe\/Paris\s+Forbid/);

    const trigger = await cli(["schedule", "trigger", "nightly"], env);
    const jobId = trigger.stdout.trim();
    expect(await api.waitFor(jobId, ended)).toMatchObject({ state: "Succeeded", labels: { "burst-schedule": "nightly" } });
    expect((await cli(["schedule", "show", "nightly", "-o", "json"], env)).stdout).toContain(`"jobId": "${jobId}"`);

    expect((await cli(["schedule", "suspend", "nightly"], env)).stdout).toBe("schedule nightly suspended\n");
    expect((await cli(["schedule", "resume", "nightly"], env)).stdout).toMatch(/^schedule nightly resumed; next run \S+T01:00:00\.000Z\n$/);
    expect((await cli(["schedule", "delete", "nightly"], env)).stdout).toBe("schedule nightly deleted\n");
    expect(await cli(["schedule", "show", "nightly"], env)).toMatchObject({ code: 1, stderr: "burst: there is no schedule nightly\n" });
    // The run outlives its schedule, as an ordinary job.
    expect((await api.get(`/api/jobs/${jobId}`)).status).toBe(200);
  });
});
