import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { keyRing, seal } from "../../src/secrets.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { workflowJobPayload } from "../../tools/github/samples.js";
import { JITCONFIG_VAR } from "../../src/github/profiles.js";
import { runnerJobId } from "../../src/github/runnerJob.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import type { RunnerProfile } from "../../src/github/profiles.js";
import { createsFor, deliver, startGitHubStack, storedTexts, type GitHubStack } from "./support.js";

const REPO = "octo-org/octo-repo";
// Distinctive, so finding it anywhere it should not be is unambiguous.
const planted = `JITCONFIG-${randomBytes(24).toString("hex")}`;

const profiles = {
  // The emulator runs its runner stand-in only for a group without a command, hence `command: []`.
  linux: { repository: REPO, labels: ["self-hosted", "linux", "burst"], command: [], cpu: 1, memoryGb: 1.5, timeoutSeconds: 600 },
  // A runner that waits for work: `sleep` plays the real runner's wait for a job.
  idle: { repository: REPO, labels: ["self-hosted", "idle"], command: ["sleep", "300"], cpu: 1, memoryGb: 1, timeoutSeconds: 600, pool: "narrow" },
};

let g: GitHubStack;
let ids = 100_000 + Math.floor(Math.random() * 1_000_000) * 100;
const nextId = () => ++ids;

function profileNamed(name: string): RunnerProfile {
  return loadGitHubSettings(g.stack.env, new Set(["default", "narrow"])).profiles.find((p) => p.name === name)!;
}
const jobIdFor = (profile: string, workflowJobId: number) => runnerJobId(profileNamed(profile), workflowJobId);
const queued = (id: number, labels = ["self-hosted", "linux", "burst"], repository = REPO) => workflowJobPayload("queued", { id, labels, repository });

beforeAll(async () => {
  g = await startGitHubStack({
    profiles,
    pools: {
      default: { maxConcurrency: 5, resourceGroup: `rg-gh-${Date.now()}` },
      narrow: { maxConcurrency: 1, resourceGroup: `rg-ghn-${Date.now()}` },
    },
    github: { jitConfig: () => planted },
  });
});
afterAll(async () => { await g?.stop(); });

describe("who gets a runner", () => {
  it("ignores a public repository's job unless a profile allows public repositories, and says why", async () => {
    const id = nextId();
    const r = await deliver(g, { payload: workflowJobPayload("queued", { id, labels: ["self-hosted", "linux", "burst"], repository: REPO, visibility: "public" }) });
    expect(r.status).toBe(200);
    expect(r.body.outcome).toBe("ignored");
    expect(String(r.body.reason)).toContain("allowPublicRepositories");
    expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobIdFor("linux", id)))).toEqual([]);
    expect(await g.stack.deps.jobs.get(jobIdFor("linux", id))).toBeUndefined();
  });

  it("cannot be blocked by a job submitted with the runner's idempotency key", async () => {
    const id = nextId();
    // Before: any API key holder could take "github-workflow-job:<id>" and the signed queued event answered "exists".
    const squatter = await (await import("../../src/scheduler/submit.js")).submitJob(g.stack.deps, { image: "alpine", command: ["sh", "-c", "sleep 1"], timeoutSeconds: 30, idempotencyKey: `github-workflow-job:${id}` });
    const r = await deliver(g, { payload: queued(id) });
    expect(r).toEqual({ status: 201, body: { outcome: "launched", jobId: jobIdFor("linux", id) } });
    expect(jobIdFor("linux", id)).not.toBe(squatter.job.id);
  });

  it("refuses a payload larger than GitHub's 25 MiB from its Content-Length, before reading or verifying it", async () => {
    // Raw HTTP: the client states 26 MiB and never sends it, as four 95 MB floods once pushed the host to 729 MB.
    const u = new URL(g.hook);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", "x-github-event": "workflow_job", "content-length": 26 * 1024 * 1024 } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on("error", reject);
      req.write("{");
    });
    expect(status).toBe(413);
  });
});

describe("the webhook endpoint", () => {
  it("answers GitHub's ping, naming the runner profiles it serves", async () => {
    const r = await deliver(g, { event: "ping", payload: { zen: "Design for failure.", hook_id: 1, hook: { events: ["workflow_job"] } } });
    expect(r).toEqual({ status: 200, body: { outcome: "pong", profiles: ["linux", "idle"] } });
  });

  it("refuses a delivery with a missing, wrong or tampered signature, and stores and launches nothing", async () => {
    const id = nextId();
    const before = g.github.requests.length;
    const payload = queued(id);
    const tampered = JSON.stringify(queued(nextId()));
    const answers = [
      await deliver(g, { payload, secret: null }),
      await deliver(g, { payload, secret: "not-the-secret" }),
      await deliver(g, { payload, body: tampered }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
    expect(g.github.requests.length).toBe(before);
    expect(await g.claims.get(id)).toBeUndefined();
    expect(await g.stack.deps.jobs.get(jobIdFor("linux", id))).toBeUndefined();
    expect(createsFor(g, jobIdFor("linux", id))).toEqual({});
  });

  it("acknowledges events and actions it does not handle, and does nothing for them", async () => {
    const before = g.github.requests.length;
    const answers = [
      await deliver(g, { event: "push", payload: { ref: "refs/heads/main" } }),
      await deliver(g, { event: "workflow_run", payload: { action: "requested" } }),
      await deliver(g, { payload: workflowJobPayload("waiting", { id: nextId(), labels: ["self-hosted", "linux", "burst"], repository: REPO }) }),
    ];
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.body.outcome)).toEqual(["ignored", "ignored", "ignored"]);
    expect(g.github.requests.length).toBe(before);
  });
});

describe("queued workflow jobs", () => {
  it("launches exactly one runner for a matching queued job, handing it the JIT configuration as a secure value", async () => {
    const id = nextId();
    const r = await deliver(g, { payload: workflowJobPayload("queued", { id, runId: 777, labels: ["self-hosted", "burst"], repository: REPO }) });
    const jobId = jobIdFor("linux", id);
    expect(r).toEqual({ status: 201, body: { outcome: "launched", jobId } });

    const mints = g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobId));
    expect(mints).toHaveLength(1);
    expect(mints[0]!.path).toBe(`/repos/${REPO}/actions/runners/generate-jitconfig`);
    expect(mints[0]!.body).toEqual({ name: `burst-${jobId}-1`, runner_group_id: 1, labels: ["self-hosted", "linux", "burst"], work_folder: "_work" });
    expect(mints[0]!.authorization).toMatch(/^Bearer ghp_/);

    const job = await g.stack.waitFor(jobId);
    expect(job.state).toBe("Succeeded");
    expect(createsFor(g, jobId)).toEqual({ [`burst-${jobId}-1`]: 1 });
    expect(job.source).toMatchObject({ kind: "github-workflow-job", repository: REPO, runId: 777, workflowJobId: id, profile: "linux", runnerName: `burst-${jobId}-1` });
    expect(job.labels).toMatchObject({ "github/repository": REPO, "github/run-id": "777", "github/workflow-job-id": String(id), "burst/runner-profile": "linux" });
    expect(job.spec).toMatchObject({ image: "ghcr.io/actions/actions-runner", secureEnvNames: [JITCONFIG_VAR] });
    expect(job.spec?.command).toBeUndefined();
    const log = (await g.stack.deps.logs.read(jobId, 1)).text;
    expect(log).toContain(`received JIT configuration in ${JITCONFIG_VAR} (${planted.length} characters)`);
    expect(job.costUsd).toBeGreaterThan(0);
  });

  it("launches nothing for labels no profile offers, or for a repository outside every profile's scope", async () => {
    const before = g.github.requests.length;
    const cases = [
      queued(nextId(), ["self-hosted", "linux", "burst", "gpu"]),
      queued(nextId(), ["ubuntu-latest"]),
      queued(nextId(), ["self-hosted", "burst"], "someone-else/their-repo"),
    ];
    for (const payload of cases) {
      const r = await deliver(g, { payload });
      expect(r.status).toBe(200);
      expect(r.body.outcome).toBe("ignored");
      expect(await g.stack.deps.jobs.get(jobIdFor("linux", payload.workflow_job.id as number))).toBeUndefined();
    }
    expect(g.github.requests.length).toBe(before);
  });

  it("launches one runner when the same delivery is redelivered, one after another and all at once", async () => {
    const a = nextId();
    const delivery = "a1b2c3d4-0000-4000-8000-000000000001";
    const first = await deliver(g, { payload: queued(a), delivery });
    const again = await deliver(g, { payload: queued(a), delivery });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toMatchObject({ outcome: "exists", jobId: first.body.jobId });

    const b = nextId();
    const burst = await Promise.all(Array.from({ length: 8 }, () => deliver(g, { payload: queued(b), delivery: "a1b2c3d4-0000-4000-8000-000000000002" })));
    expect(burst.filter((x) => x.status === 201)).toHaveLength(1);
    expect(burst.every((x) => [200, 201, 202].includes(x.status))).toBe(true);

    for (const id of [a, b]) {
      const jobId = jobIdFor("linux", id);
      expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobId))).toHaveLength(1);
      expect((await g.stack.waitFor(jobId)).state).toBe("Succeeded");
      expect(createsFor(g, jobId)).toEqual({ [`burst-${jobId}-1`]: 1 });
    }
  });

  it("launches nothing for a queued delivery that arrives after its workflow job completed", async () => {
    const id = nextId();
    const done = await deliver(g, { payload: workflowJobPayload("completed", { id, labels: ["self-hosted", "linux"], repository: REPO, runnerName: "GitHub Actions 5", conclusion: "success" }) });
    expect(done.status).toBe(200);
    const late = await deliver(g, { payload: queued(id, ["self-hosted", "linux"]) });
    expect(late.body).toMatchObject({ outcome: "completed" });
    expect(await g.stack.deps.jobs.get(jobIdFor("linux", id))).toBeUndefined();
    expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobIdFor("linux", id)))).toHaveLength(0);
  });
});

describe("crashes between claiming, minting and submitting", () => {
  it("takes over a claim whose delivery stopped before minting, under a new runner name", async () => {
    const id = nextId();
    const jobId = jobIdFor("linux", id);
    const long = new Date(Date.now() - 10 * 60_000).toISOString();
    await g.claims.insert({ workflowJobId: id, status: "claimed", generation: 1, claimedAt: long, updatedAt: long, jobId, profile: "linux" });
    const r = await deliver(g, { payload: queued(id) });
    expect(r).toEqual({ status: 201, body: { outcome: "launched", jobId } });
    expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobId)).map((m) => (m.body as { name: string }).name)).toEqual([`burst-${jobId}-2`]);
    expect((await g.stack.waitFor(jobId)).state).toBe("Succeeded");
  });

  it("leaves a claim another delivery is still working on alone", async () => {
    const id = nextId();
    const jobId = jobIdFor("linux", id);
    const now = new Date().toISOString();
    await g.claims.insert({ workflowJobId: id, status: "claimed", generation: 1, claimedAt: now, updatedAt: now, jobId, profile: "linux" });
    const r = await deliver(g, { payload: queued(id) });
    expect(r).toMatchObject({ status: 202, body: { outcome: "in-progress" } });
    expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobId))).toHaveLength(0);
    expect(await g.stack.deps.jobs.get(jobId)).toBeUndefined();
  });

  it("submits with the configuration a crashed delivery minted, without minting another", async () => {
    const id = nextId();
    const jobId = jobIdFor("linux", id);
    // What the crashed delivery did: claimed, minted (GitHub registered the runner), sealed it into the claim.
    const res = await fetch(`${g.github.url}/repos/${REPO}/actions/runners/generate-jitconfig`, {
      method: "POST",
      headers: { authorization: `Bearer ${g.stack.env.BURST_GITHUB_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `burst-${jobId}-1`, runner_group_id: 1, labels: ["self-hosted", "linux", "burst"], work_folder: "_work" }),
    });
    const minted = (await res.json()) as { runner: { id: number; name: string }; encoded_jit_config: string };
    const now = new Date().toISOString();
    const key = Buffer.from(g.stack.env.BURST_SECRET_KEY!, "base64");
    await g.claims.insert({
      workflowJobId: id, status: "minted", generation: 1, claimedAt: now, updatedAt: now, jobId, profile: "linux",
      runnerName: minted.runner.name, runnerId: minted.runner.id,
      sealedJitConfig: seal({ [JITCONFIG_VAR]: minted.encoded_jit_config }, keyRing(key), `github-workflow-job:${id}`),
    });
    const mintsBefore = g.github.mints().length;

    const r = await deliver(g, { payload: queued(id) });
    expect(r).toEqual({ status: 201, body: { outcome: "launched", jobId } });
    expect(g.github.mints().length).toBe(mintsBefore);
    const job = await g.stack.waitFor(jobId);
    expect(job.state).toBe("Succeeded");
    expect(job.source).toMatchObject({ runnerId: minted.runner.id, runnerName: `burst-${jobId}-1` });
    expect((await g.stack.deps.logs.read(jobId, 1)).text).toContain(`(${planted.length} characters)`);
    // Once submitted, the claim no longer holds the sealed configuration.
    expect((await g.claims.get(id))?.value).toMatchObject({ status: "submitted" });
    expect((await g.claims.get(id))?.value.sealedJitConfig).toBeUndefined();
  });
});

describe("in_progress and completed", () => {
  const idle = (id: number) => workflowJobPayload("queued", { id, labels: ["self-hosted", "idle"], repository: REPO });

  it("cancels the runner job when its workflow job runs elsewhere, removing the runner's registration and its group", async () => {
    const id = nextId();
    const jobId = jobIdFor("idle", id);
    expect((await deliver(g, { payload: idle(id) })).status).toBe(201);
    const running = await g.stack.waitFor(jobId, (j) => j.state === "Running");
    const runnerId = running.source!.runnerId as number;
    expect(g.github.runners.has(runnerId)).toBe(true);

    const elsewhere = { id, labels: ["self-hosted", "idle"], repository: REPO, runnerName: "someone-elses-runner", runnerId: 4, conclusion: "success" };
    await deliver(g, { payload: workflowJobPayload("in_progress", elsewhere) });
    const r = await deliver(g, { payload: workflowJobPayload("completed", elsewhere) });
    expect(r.status).toBe(200);
    expect(["canceling", "canceled"]).toContain(r.body.outcome);

    const job = await g.stack.waitFor(jobId);
    expect(job.state).toBe("Canceled");
    expect(job.source).toMatchObject({ servedBy: "someone-elses-runner", conclusion: "success" });
    expect(g.github.runners.has(runnerId)).toBe(false);
    expect(g.stack.emulator.stats().alive.filter((grp) => grp.name.includes(jobId))).toEqual([]);
    expect(g.stack.emulator.stats().billing.find((b) => b.name === `burst-${jobId}-1`)?.deleted).toBe(true);
  });

  it("answers 502 when GitHub fails while stopping an idle runner, and a redelivered completed finishes the job", async () => {
    const id = nextId();
    const jobId = jobIdFor("idle", id);
    expect((await deliver(g, { payload: idle(id) })).status).toBe(201);
    await g.stack.waitFor(jobId, (j) => j.state === "Running");
    const completed = { payload: workflowJobPayload("completed", { id, labels: ["self-hosted", "idle"], repository: REPO, runnerName: null, runnerId: null, conclusion: "cancelled" }), delivery: "c0ffee00-0000-4000-8000-000000000001" };
    g.github.failNext("runner", 1, 502);
    const failed = await deliver(g, completed);
    expect(failed.status).toBe(502);
    expect((await g.stack.deps.jobs.get(jobId))!.value.state).toBe("Running");

    const again = await deliver(g, completed);
    expect(again).toMatchObject({ status: 200, body: { outcome: expect.stringMatching(/^cancel/) } });
    expect((await g.stack.waitFor(jobId)).state).toBe("Canceled");
  });

  it("keeps a runner that took another workflow job, records what it runs, and stops it only by other means", async () => {
    const x = nextId();
    const y = nextId();
    const jobId = jobIdFor("idle", x);
    expect((await deliver(g, { payload: idle(x) })).status).toBe(201);
    const running = await g.stack.waitFor(jobId, (j) => j.state === "Running");
    const ours = running.source!.runnerName as string;

    // GitHub gave our runner workflow job Y; X went to some other runner.
    const took = await deliver(g, { payload: workflowJobPayload("in_progress", { id: y, labels: ["self-hosted", "idle"], repository: REPO, runnerName: ours, runnerId: running.source!.runnerId as number }) });
    expect(took.body).toMatchObject({ outcome: "recorded", jobId });
    const r = await deliver(g, { payload: workflowJobPayload("completed", { id: x, labels: ["self-hosted", "idle"], repository: REPO, runnerName: "someone-elses-runner", runnerId: 4, conclusion: "success" }) });
    expect(r.body).toMatchObject({ outcome: "busy", jobId });
    const after = (await g.stack.deps.jobs.get(jobId))!.value;
    expect(after.state).toBe("Running");
    expect(after.source).toMatchObject({ pickedUpWorkflowJobId: y, servedBy: "someone-elses-runner", conclusion: "success" });
    expect(g.github.runners.has(running.source!.runnerId as number)).toBe(true);

    await cancelJob(g.stack.deps, jobId);
    expect((await g.stack.waitFor(jobId)).state).toBe("Canceled");
  });

  it("does not stop a runner GitHub reports busy, even before its in_progress arrives", async () => {
    const id = nextId();
    const jobId = jobIdFor("idle", id);
    expect((await deliver(g, { payload: idle(id) })).status).toBe(201);
    const running = await g.stack.waitFor(jobId, (j) => j.state === "Running");
    g.github.setBusy(running.source!.runnerId as number, true);
    const r = await deliver(g, { payload: workflowJobPayload("completed", { id, labels: ["self-hosted", "idle"], repository: REPO, runnerName: "someone-elses-runner", runnerId: 4, conclusion: "success" }) });
    expect(r.body).toMatchObject({ outcome: "busy", jobId });
    expect((await g.stack.deps.jobs.get(jobId))!.value.state).toBe("Running");
    await cancelJob(g.stack.deps, jobId);
    expect((await g.stack.waitFor(jobId)).state).toBe("Canceled");
  });

  it("holds runner jobs to their pool's concurrency, and cancels one still waiting without ever creating its group", async () => {
    const first = nextId();
    const second = nextId();
    const j1 = jobIdFor("idle", first);
    const j2 = jobIdFor("idle", second);
    expect((await deliver(g, { payload: idle(first) })).status).toBe(201);
    await g.stack.waitFor(j1, (j) => j.state === "Running");
    expect((await deliver(g, { payload: idle(second) })).status).toBe(201);
    // The pool "narrow" has one slot, held by the first runner.
    expect((await g.stack.deps.jobs.get(j2))!.value.state).toBe("Waiting");

    const cancelled = await deliver(g, { payload: workflowJobPayload("completed", { id: second, labels: ["self-hosted", "idle"], repository: REPO, runnerName: null, runnerId: null, conclusion: "cancelled" }) });
    expect(cancelled.body).toMatchObject({ outcome: "canceled", jobId: j2 });
    const waiting = await g.stack.waitFor(j2);
    expect(waiting.state).toBe("Canceled");
    expect(waiting.attempts).toHaveLength(0);
    expect(createsFor(g, j2)).toEqual({});

    await deliver(g, { payload: workflowJobPayload("completed", { id: first, labels: ["self-hosted", "idle"], repository: REPO, runnerName: "someone-elses-runner", runnerId: 4, conclusion: "success" }) });
    expect((await g.stack.waitFor(j1)).state).toBe("Canceled");
  });
});

describe("the JIT configuration", () => {
  it("never appears in any table, blob or queue message, nor in the host's output", async () => {
    const id = nextId();
    const jobId = jobIdFor("linux", id);
    expect((await deliver(g, { payload: queued(id) })).status).toBe(201);
    await g.stack.waitFor(jobId);
    // It did reach the runner: the stand-in reports its length.
    expect((await g.stack.deps.logs.read(jobId, 1)).text).toContain(`(${planted.length} characters)`);

    const stored = await storedTexts(g.stack);
    const where = (name: string) => stored.filter((s) => s.where.startsWith(name));
    // The search covers the places the runs above wrote to.
    expect(where("table").some((s) => s.where.includes("Jobs"))).toBe(true);
    expect(where("table").some((s) => s.where.includes("Ledger"))).toBe(true);
    expect(where("table").some((s) => s.where.includes("GitHub"))).toBe(true);
    expect(where("blob").some((s) => s.where.includes(jobId))).toBe(true);
    const leaks = stored.filter((s) => s.text.includes(planted)).map((s) => s.where);
    expect(leaks).toEqual([]);
    expect(g.stack.hosts.map((h) => h.output()).join("\n")).not.toContain(planted);
  });
});
