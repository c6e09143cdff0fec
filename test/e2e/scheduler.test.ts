import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

describe("a job through the whole local stack (sim runtime)", () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(async () => { await stack?.stop(); });

  it("runs an enqueued job to Succeeded, keeps its output and cost, and deletes its group", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo hello; sleep 1; echo bye"], timeoutSeconds: 60 });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Succeeded");
    expect(job.exitCode).toBe(0);
    expect(job.attempts).toHaveLength(1);
    const log = await stack.deps.logs.read(id, 1);
    expect(log.text.split("\n").filter(Boolean).map((l) => l.slice(l.indexOf(" ") + 1))).toEqual(["hello", "bye"]);
    const meter = stack.emulator.stats().billing.find((b) => b.name === job.attempts[0]!.group)!;
    expect(meter.deleted).toBe(true);
    expect(Math.abs(job.attempts[0]!.billedSeconds! - meter.billedSeconds)).toBeLessThanOrEqual(1);
    expect(job.costUsd).toBeGreaterThan(0);
    expect(stack.emulator.stats().aliveCount).toBe(0);
  });
});

describe("admission across scaled-out hosts", () => {
  let stack: Stack;
  const rg = `rg-cap-${Date.now()}`;
  beforeAll(async () => {
    stack = await startStack({ hosts: 2, pools: { default: { maxConcurrency: 3, resourceGroup: rg } } });
  });
  afterAll(async () => { await stack?.stop(); });

  it("never has more live groups than the pool's cap, with two hosts sharing one storage account", async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => stack.enqueue({ image: "alpine", command: ["sh", "-c", `sleep 1; echo job ${i}`], timeoutSeconds: 60 })));
    const jobs = await stack.waitForAll(ids);
    expect(jobs.map((j) => j.state)).toEqual(Array(12).fill("Succeeded"));
    const stats = stack.emulator.stats();
    expect(stats.peak.byResourceGroup[rg.toLowerCase()]).toBeLessThanOrEqual(3);
    expect(stats.peak.byResourceGroup[rg.toLowerCase()]).toBe(3);
    expect(stats.aliveCount).toBe(0);
    // Each attempt's group was created exactly once.
    expect(Object.values(stats.createsByName).every((n) => n === 1)).toBe(true);
    expect(Object.keys(stats.createsByName)).toHaveLength(12);
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    expect(Object.keys(snap.holders)).toEqual([]);
  });
});

describe("the money budget", () => {
  let stack: Stack;
  // 1 vCPU + 1 GB at eastus rates: $0.000012486/s. Each job reserves (timeout 20 s + slack 0) ≈ $0.00025.
  const rate = (0.0405 + 0.00445) / 3600;
  const daily = rate * 20 * 2.5; // room for two reservations at a time, not three
  beforeAll(async () => {
    stack = await startStack({ pools: { default: { maxConcurrency: 10, resourceGroup: `rg-budget-${Date.now()}`, budget: { dailyUsd: daily * 3 }, enforcementSlackSeconds: 0 } } });
  });
  afterAll(async () => { await stack?.stop(); });

  it("holds jobs in Waiting while the budget is reserved, lets them proceed as costs settle, and never overshoots", async () => {
    const spec = { image: "alpine", command: ["sh", "-c", "sleep 2"], cpu: 1, memoryGb: 1, timeoutSeconds: 20 };
    const ids = await Promise.all(Array.from({ length: 8 }, () => stack.enqueue(spec)));
    let sawWaitingWhileOthersRan = false;
    let maxCommitted = 0;
    // Each check also samples the ledger, so the whole run is watched, not just its end.
    await waitUntil(async () => {
      const snap = await stack.deps.ledger.snapshot("default", new Date());
      const reserved = Object.values(snap.holders).reduce((s, h) => s + h.reservedUsd, 0);
      maxCommitted = Math.max(maxCommitted, snap.spentDayUsd + reserved);
      const jobs = await Promise.all(ids.map(async (id) => (await stack.deps.jobs.get(id))?.value));
      if (jobs.some((j) => j?.state === "Waiting") && Object.keys(snap.holders).length > 0) sawWaitingWhileOthersRan = true;
      return jobs.map((j) => j?.state);
    }, { what: "all 8 jobs to end", until: (states) => states.every((s) => s && ["Succeeded", "Failed", "Rejected", "Canceled", "TimedOut"].includes(s)), timeoutMs: 60_000 });
    const jobs = await stack.waitForAll(ids);
    expect(jobs.every((j) => j.state === "Succeeded")).toBe(true);
    expect(sawWaitingWhileOthersRan).toBe(true);
    expect(maxCommitted).toBeLessThanOrEqual(daily * 3 + 1e-9);
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    expect(snap.spentDayUsd).toBeCloseTo(jobs.reduce((s, j) => s + j.costUsd, 0), 9);
  });

  it("rejects a job whose worst case can never fit, saying why", async () => {
    const noTimeout = await stack.waitFor(await stack.enqueue({ image: "alpine", command: ["true"] }));
    expect(noTimeout.state).toBe("Rejected");
    expect(noTimeout.errors?.[0]).toMatchObject({ field: "timeoutSeconds" });
    const tooBig = await stack.waitFor(await stack.enqueue({ image: "alpine", command: ["true"], timeoutSeconds: 86_400 }));
    expect(tooBig.state).toBe("Rejected");
    expect(tooBig.reason).toMatch(/whole daily budget/);
  });
});

describe("logs, limits and bad input", () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ pools: { default: { maxConcurrency: 4, resourceGroup: `rg-misc-${Date.now()}` } } }); });
  afterAll(async () => { await stack?.stop(); });

  it("keeps all 5,000 lines of a chatty job, in order and once each, beyond ACI's 1,000-line after-stop window", async () => {
    // 250 lines a second: well past 1,000 lines in all, and well inside what per-poll capture keeps up with.
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "for i in $(seq 1 20); do seq 1 250; sleep 1; done"], timeoutSeconds: 120 });
    const job = await stack.waitFor(id, undefined, 60_000);
    expect(job.state).toBe("Succeeded");
    const lines = (await stack.deps.logs.read(id, 1)).text.split("\n").filter(Boolean).map((l) => l.slice(l.indexOf(" ") + 1));
    const expected = Array.from({ length: 20 }, () => Array.from({ length: 250 }, (_, i) => String(i + 1))).flat();
    expect(lines.length).toBe(5000);
    expect(lines).toEqual(expected);
    expect(job.log.truncated).toBeFalsy();
  });

  it("says so when ACI dropped output before Burst could copy it", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "seq 1 3000"], timeoutSeconds: 60 });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Succeeded");
    expect(job.log.truncated).toBe(true);
    const lines = (await stack.deps.logs.read(id, 1)).text.split("\n").filter(Boolean);
    expect(lines.at(-1)).toMatch(/ 3000$/);
  });

  it("stops and deletes a job that reaches its timeout, as TimedOut", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo start; sleep 60"], timeoutSeconds: 3 });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("TimedOut");
    expect(job.reason).toMatch(/timeoutSeconds/);
    const meter = stack.emulator.stats().billing.find((b) => b.name === job.attempts[0]!.group)!;
    expect(meter.deleted).toBe(true);
    expect(meter.running).toBe(false);
    expect(meter.seconds).toBeLessThan(10);
    expect(Math.abs(job.attempts[0]!.billedSeconds! - meter.billedSeconds)).toBeLessThanOrEqual(1);
  });

  it("stops a job before its maxCostUsd, as TimedOut with the cost cap as the reason, and never bills past the cap", async () => {
    const rate = (0.0405 + 0.00445 * 1.5) / 3600;
    // The first-hour report: a $0.0001 cap ended at $0.000118, and $0.0003 at $0.000328.
    const caps = [0.0001, rate * 5, 0.00015];
    const ids = await Promise.all(caps.map((cap) => stack.enqueue({ image: "alpine", command: ["sleep", "60"], maxCostUsd: cap })));
    const jobs = await stack.waitForAll(ids);
    for (const [i, job] of jobs.entries()) {
      expect(job.state).toBe("TimedOut");
      expect(job.reason).toMatch(/maxCostUsd/);
      expect(job.costUsd).toBeLessThanOrEqual(caps[i]!);
      const meter = stack.emulator.stats().billing.find((b) => b.name === job.attempts[0]!.group)!;
      expect(meter.billedSeconds * rate).toBeLessThanOrEqual(caps[i]! + 1e-12);
      expect(meter.deleted).toBe(true);
    }
    // A cap no run can keep (less than a first second and the stop margin) is refused.
    const tiny = await stack.enqueue({ image: "alpine", command: ["sleep", "60"], maxCostUsd: rate * 2 });
    expect((await stack.waitFor(tiny)).errors?.[0]).toMatchObject({ field: "maxCostUsd", rule: expect.stringMatching(/^must be at least \$/) });
  });

  it("retries a failing job as often as its retries allow and keeps every attempt", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo trying; exit 3"], retries: 1, timeoutSeconds: 30 });
    const job = await stack.waitFor(id, undefined, 60_000);
    expect(job.state).toBe("Failed");
    expect(job.exitCode).toBe(3);
    expect(job.attempts.map((a) => [a.n, a.outcome, a.exitCode])).toEqual([[1, "Failed", 3], [2, "Failed", 3]]);
    expect(new Set(job.attempts.map((a) => a.group)).size).toBe(2);
  });

  it("turns a spec that fails validation into a Rejected job naming each field", async () => {
    const id = await stack.enqueue({ image: "NOT AN IMAGE", cpu: 100, secureEnv: { TOKEN: "never-store-me" } });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Rejected");
    expect(job.errors?.map((e) => e.field)).toEqual(expect.arrayContaining(["image", "cpu"]));
    expect(JSON.stringify(job)).not.toContain("never-store-me");
  });
});

describe("at-least-once delivery and cancellation", () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ pools: { default: { maxConcurrency: 2, resourceGroup: `rg-dup-${Date.now()}` } } }); });
  afterAll(async () => { await stack?.stop(); });

  it("launches a redelivered or duplicated submission once", async () => {
    const { dispatchMessage } = await import("../../src/scheduler/dispatch.js");
    const spec = { image: "alpine", command: ["sh", "-c", "sleep 1"], timeoutSeconds: 30 };
    const meta = { id: "5c4a6d4e-0000-4000-8000-000000000001", insertionTime: new Date() };
    const source = { readSpecBlob: async () => undefined, deleteSpecBlob: async () => {} };
    // The same queue message delivered twice, at once, as at-least-once delivery allows.
    const [a, b] = await Promise.all([dispatchMessage(stack.deps, source, spec, meta), dispatchMessage(stack.deps, source, spec, meta)]);
    expect(a[0]!.job.id).toBe(b[0]!.job.id);
    // Two different messages carrying the same idempotencyKey.
    const keyed = { ...spec, idempotencyKey: `dup-${stack.prefix}` };
    const [k1, k2] = await Promise.all([stack.enqueue(keyed), stack.enqueue(keyed)]);
    const jobs = await stack.waitForAll([a[0]!.job.id]);
    const keyedJob = (await stack.deps.jobs.get((await import("../../src/scheduler/ids.js")).jobIdForKey("default", keyed.idempotencyKey)))!.value;
    await stack.waitFor(keyedJob.id);
    expect(jobs[0]!.state).toBe("Succeeded");
    // Extra launch messages for a job that is already running or done change nothing.
    await stack.deps.outbox.send("launch", { jobId: a[0]!.job.id });
    await new Promise((r) => setTimeout(r, 1500));
    const creates = stack.emulator.stats().createsByName;
    expect(creates[`burst-${a[0]!.job.id}-1`]).toBe(1);
    expect(creates[`burst-${keyedJob.id}-1`]).toBe(1);
    expect(Object.keys(creates).filter((n) => n.includes(a[0]!.job.id) || n.includes(keyedJob.id))).toHaveLength(2);
    expect([k1, k2]).toHaveLength(2);
  });

  it("deletes a spec blob once its job exists, since it holds secure values in clear, and a redelivery still finds the job", async () => {
    const { dispatchMessage } = await import("../../src/scheduler/dispatch.js");
    const { BlobServiceClient } = await import("@azure/storage-blob");
    const container = BlobServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getContainerClient(stack.deps.config.names.specsContainer);
    await container.createIfNotExists();
    const text = JSON.stringify({ image: "alpine", command: ["sh", "-c", "true"], timeoutSeconds: 30, secureEnv: { TOKEN: "in-clear-in-the-blob" } });
    await container.getBlockBlobClient("with-secret.json").upload(text, text.length);
    const source = {
      readSpecBlob: async (name: string) => (await container.getBlockBlobClient(name).exists()) ? (await container.getBlockBlobClient(name).downloadToBuffer()).toString() : undefined,
      deleteSpecBlob: async (name: string) => { await container.getBlockBlobClient(name).deleteIfExists(); },
    };
    const meta = { id: "5c4a6d4e-0000-4000-8000-0000000000b1", insertionTime: new Date() };
    const [first] = await dispatchMessage(stack.deps, source, { specBlob: "with-secret.json" }, meta);
    expect(first!.created).toBe(true);
    expect(await container.getBlockBlobClient("with-secret.json").exists()).toBe(false);
    // At-least-once delivery: the same message again, its blob gone, is done, not poison.
    expect(await dispatchMessage(stack.deps, source, { specBlob: "with-secret.json" }, meta)).toEqual([]);
    // A blob that never existed is still unreadable.
    await expect(dispatchMessage(stack.deps, source, { specBlob: "never.json" }, { ...meta, id: "another" })).rejects.toThrow(/does not exist/);
  });

  it("cancels a running job, deleting its group, and a waiting job without launching it", async () => {
    const long = { image: "alpine", command: ["sleep", "120"], timeoutSeconds: 300 };
    const all = await Promise.all([stack.enqueue(long), stack.enqueue(long), stack.enqueue(long)]);
    // The pool has two slots: two run, one waits.
    const seen = await waitUntil(() => Promise.all(all.map(async (id) => (await stack.deps.jobs.get(id))?.value.state ?? "not yet dispatched")), {
      what: "two of the three jobs to run", until: (states) => states.filter((s) => s === "Running").length === 2, timeoutMs: 20_000,
    });
    expect([...seen].sort()).toEqual(["Running", "Running", "Waiting"]);
    const w = all[seen.indexOf("Waiting")]!;
    const [r1, r2] = all.filter((id) => id !== w) as [string, string];
    const { cancelJob } = await import("../../src/scheduler/cancel.js");
    expect((await cancelJob(stack.deps, w)).outcome).toBe("canceled");
    await cancelJob(stack.deps, r1);
    await cancelJob(stack.deps, r2);
    const [c1, c2, c3] = await stack.waitForAll([r1, r2, w]);
    expect([c1!.state, c2!.state, c3!.state]).toEqual(["Canceled", "Canceled", "Canceled"]);
    expect(c3!.attempts).toHaveLength(0);
    expect(stack.emulator.stats().alive.filter((g) => [r1, r2, w].some((id) => g.name.includes(id)))).toEqual([]);
    expect((await cancelJob(stack.deps, r1)).outcome).toBe("finished");
  });

  it("counts every stored log line of a canceled job, even when two polls stop it at once", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "for i in $(seq 1 200); do seq 1 20; sleep 0.1; done"], timeoutSeconds: 300 });
    const running = await stack.waitFor(id, (j) => j.state === "Running" && j.log.lines > 0);
    const { cancelJob } = await import("../../src/scheduler/cancel.js");
    const { poll } = await import("../../src/scheduler/flow.js");
    await cancelJob(stack.deps, id);
    // The cancel's poll and the scheduled one carry the same chain token and may both act.
    const current = (await stack.deps.jobs.get(id))!.value;
    const msg = { jobId: id, attempt: running.attempts.at(-1)!.n, seq: current.monitorSeq };
    // One may find the group already deleted by another's finish and fail, as a redelivered poll would.
    await Promise.allSettled([poll(stack.deps, msg), poll(stack.deps, msg), poll(stack.deps, msg)]);
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Canceled");
    const stored = (await stack.deps.logs.read(id, 1)).text.split("\n").filter(Boolean);
    expect(stored.length).toBeGreaterThan(0);
    expect(job.log.lines).toBe(stored.length);
  });
});

describe("the process runtime", () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ runtime: "process", pools: { default: { maxConcurrency: 2, resourceGroup: `rg-proc-${Date.now()}` } } }); });
  afterAll(async () => { await stack?.stop(); });

  it("runs a real process with its environment and secure environment, and never stores the secure value", async () => {
    const secret = `s3cret-${stack.prefix}`;
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", `echo "mode=$MODE"; test \${#TOKEN} -eq ${secret.length} && echo token-ok; exit 4`], env: { MODE: "batch" }, secureEnv: { TOKEN: secret }, timeoutSeconds: 60 });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Failed");
    expect(job.exitCode).toBe(4);
    const log = (await stack.deps.logs.read(id, 1)).text;
    expect(log).toContain("mode=batch");
    expect(log).toContain("token-ok");
    expect(JSON.stringify(job)).not.toContain(secret);
    expect(job.spec).toMatchObject({ secureEnvNames: ["TOKEN"] });
  });
});
