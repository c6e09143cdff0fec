import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_IN_PRICES, worstCaseUsd } from "../../src/pricing.js";
import type { Stack } from "../support/harness.js";
import { cli, startCli } from "../cli/cli.js";
import { Api, ended, startApiStack } from "./apiClient.js";

const long = { image: "alpine", command: ["sleep", "60"], cpu: 1, memoryGb: 1, timeoutSeconds: 600 };
const worst = worstCaseUsd(long, BUILT_IN_PRICES["eastus/Standard"]!, 20)!;

describe("what the API says about a job that is not running yet", () => {
  let stack: Stack;
  let api: Api;
  const started: string[] = [];
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({
      pools: {
        single: { maxConcurrency: 1, resourceGroup: `rg-wait-single-${Date.now()}` },
        solo: { maxConcurrency: 1, resourceGroup: `rg-wait-solo-${Date.now()}` },
        // Room for one long job's worst case, not two: the second waits for budget with free slots.
        thrifty: { maxConcurrency: 5, resourceGroup: `rg-wait-thrifty-${Date.now()}`, budget: { dailyUsd: worst * 1.5 } },
        retrying: { maxConcurrency: 5, resourceGroup: `rg-wait-retry-${Date.now()}` },
      },
    }));
  });
  afterAll(async () => {
    for (const id of started) await api.delete(`/api/jobs/${id}`);
    await stack?.stop();
  });

  async function submit(spec: Record<string, unknown>): Promise<string> {
    const r = await api.post("/api/jobs", spec);
    expect(r.status).toBe(202);
    started.push(r.json.id);
    return r.json.id;
  }

  it("says every slot is in use, and counts them, when the pool is full", async () => {
    const first = await submit({ ...long, pool: "single" });
    await api.waitFor(first, (j) => j.state === "Running");
    const second = await submit({ ...long, pool: "single" });
    const job = await api.get(`/api/jobs/${second}`);
    expect(job.json.state).toBe("Waiting");
    expect(job.json.waiting).toEqual({ reason: "slot", text: "all 1 slots of pool single are in use (1 of 1)" });
    const list = await api.get("/api/jobs", { query: { pool: "single", state: "Waiting" } });
    expect(list.json.jobs.map((j: { id: string; waiting: { reason: string } }) => [j.id, j.waiting.reason])).toEqual([[second, "slot"]]);
  });

  it("burst run says why its job waits, once, and burst ls and status show it", async () => {
    const env = { BURST_URL: stack.hosts[0]!.url, BURST_API_KEY: api.key };
    const occupant = await submit({ ...long, pool: "solo" });
    await api.waitFor(occupant, (j) => j.state === "Running");
    const run = startCli(["run", "--pool", "solo", "--name", "waiter", "--timeout", "60", "alpine", "--", "echo", "after the wait"], env);
    await run.waitForOutput((err) => err.includes("is waiting"), "stderr");
    expect(run.stderr()).toMatch(/^burst: job \w+ is waiting: all 1 slots of pool solo are in use \(1 of 1\)\n$/);
    const ls = await cli(["ls", "--pool", "solo", "--state", "Waiting"], env);
    expect(ls.stdout).toMatch(/\bWaiting \(slot\)/);
    const waiter = (await api.get("/api/jobs", { query: { pool: "solo", state: "Waiting" } })).json.jobs.find((j: { name?: string }) => j.name === "waiter").id;
    const status = await cli(["status", waiter], env);
    expect(status.stdout).toMatch(/^waiting:\s+all 1 slots of pool solo are in use \(1 of 1\)$/m);
    // Free the pool: the queued jobs run, and burst run ends with its output.
    await api.delete(`/api/jobs/${occupant}`);
    const result = await run.done;
    expect(result).toMatchObject({ code: 0, stdout: "after the wait\n" });
    expect(result.stderr.match(/is waiting/g)).toHaveLength(1);
  });

  it("says the first in line waits for budget, with the money it needs and has, and the rest wait behind it", async () => {
    const first = await submit({ ...long, pool: "thrifty" });
    await api.waitFor(first, (j) => j.state === "Running");
    const head = await submit({ ...long, pool: "thrifty" });
    const behind = await submit({ ...long, pool: "thrifty" });
    const h = (await api.get(`/api/jobs/${head}`)).json;
    expect(h.state).toBe("Waiting");
    expect(h.waiting.reason).toBe("budget");
    expect(h.waiting.text).toMatch(new RegExp(`^waiting for budget: its worst case needs \\$${worst}; today \\(\\d{4}-\\d\\d-\\d\\d\\) has \\$[0-9.]+ left of \\$${worst * 1.5}$`));
    const b = (await api.get(`/api/jobs/${behind}`)).json;
    expect(b.waiting).toMatchObject({ reason: "budget", text: expect.stringContaining(`behind job ${head}, first in line`) });
  });

  it("says when a retry will start, and nothing once the job has ended", async () => {
    const id = await submit({ image: "alpine", command: ["sh", "-c", "exit 3"], retries: 1, timeoutSeconds: 30, pool: "retrying" });
    const backoff = await api.waitFor(id, (j) => j.state === "Waiting" && (j.attempts as unknown[]).length === 1);
    expect(backoff.waiting).toMatchObject({ reason: "retry-backoff", until: backoff.notBefore, text: expect.stringContaining(`waits until ${backoff.notBefore}`) });
    const done = await api.waitFor(id, ended);
    expect(done.state).toBe("Failed");
    expect(done.waiting).toBeUndefined();
  });

  it("shows a running job's cost so far and keeps Burst's own bookkeeping out of the answer", async () => {
    const id = await submit({ ...long, pool: "retrying", secureEnv: { TOKEN: "planted-secret-value" } });
    const running = await api.waitFor(id, (j) => j.state === "Running" && (j.costUsd as number) > 0);
    expect(running.costRunning).toBe(true);
    expect(running.attempts[0].costUsd).toBeUndefined();
    expect(running.spec.secureEnvNames).toEqual(["TOKEN"]);
    const raw = (await api.get(`/api/jobs/${id}`)).text;
    for (const internal of ["sealedSecureEnv", "monitorSeq", "launchClaim", "lastPollAt", "acceptedAt", "planted-secret-value"]) expect(raw).not.toContain(internal);
  });
});
