import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueServiceClient } from "@azure/storage-queue";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { createAciClient } from "../../src/aci/client.js";
import { reconcile } from "../../src/scheduler/reconcile.js";
import { TAGS } from "../../src/aci/groupSpec.js";
import { windowsOf } from "../../src/admission.js";
import { waitingReasons } from "../../src/api/waiting.js";

describe("the reconciler", () => {
  let stack: Stack;
  const rg = `rg-rec-${Date.now()}`;
  const sub = "00000000-0000-0000-0000-000000000000";
  // The reconciler runs when a test calls it: the hosts' own timer (after its start-up run)
  // would otherwise get to the planted orphan first, and the counts would be its.
  beforeAll(async () => { stack = await startStack({ pools: { default: { maxConcurrency: 3, resourceGroup: rg } }, env: { BURST_RECONCILE_SCHEDULE: "0 0 0 1 1 *" } }); });
  afterAll(async () => { await stack?.stop(); });

  const group = (tags: Record<string, string>) => ({
    location: "eastus", tags, osType: "Linux", restartPolicy: "Never",
    containers: [{ name: "job", image: "alpine", command: ["sleep", "300"], resources: { requests: { cpu: 0.5, memoryInGB: 0.5 } } }],
  });

  it("deletes tagged groups no live job owns, spares young ones and groups Burst did not make", async () => {
    const aci = createAciClient({ subscriptionId: sub, endpoint: stack.emulator.url, emulatorToken: stack.env.BURST_EMULATOR_TOKEN });
    const old = new Date(Date.now() - 3600_000).toISOString();
    const managed = { [TAGS.managed]: "true", [TAGS.pool]: "default", [TAGS.job]: "jnosuchjob", [TAGS.attempt]: "1", [TAGS.deployment]: stack.deps.config.deploymentId };
    await aci.containerGroups.beginCreateOrUpdate(rg, "burst-jnosuchjob-1", group({ ...managed, [TAGS.created]: old }));
    await aci.containerGroups.beginCreateOrUpdate(rg, "burst-jyoung-1", group({ ...managed, [TAGS.job]: "jyoung", [TAGS.created]: new Date().toISOString() }));
    await aci.containerGroups.beginCreateOrUpdate(rg, "someone-elses", group({ owner: "not burst" }));
    const report = await reconcile(stack.deps);
    expect(report.orphansDeleted).toBe(1);
    const names = stack.emulator.stats().alive.filter((g) => g.resourceGroup === rg).map((g) => g.name).sort();
    expect(names).toEqual(["burst-jyoung-1", "someone-elses"]);
    await aci.containerGroups.beginDeleteAndWait(rg, "burst-jyoung-1");
    await aci.containerGroups.beginDeleteAndWait(rg, "someone-elses");
  });

  it("resumes a running job whose poll messages were lost, and still enforces its deadline", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sleep", "300"], timeoutSeconds: 4 });
    const running = await stack.waitFor(id, (j) => j.state === "Running");
    // Lose the monitor chain: every poll message is gone.
    await QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getQueueClient(stack.deps.config.names.monitorQueue).clearMessages();
    // The deadline passes (counted from the launch, as the monitor counts it) with no poll left to notice it,
    // and the last poll grows older than the reconciler's "stuck" below.
    const deadline = Date.parse(running.attempts.at(-1)?.launchedAt ?? running.updatedAt) + 4000;
    const unpolled = await waitUntil(async () => (await stack.deps.jobs.get(id))!.value, {
      what: `job ${id}'s deadline (${new Date(deadline).toISOString()}) to pass with its last poll over a second old`,
      until: (j) => Date.now() >= deadline && Date.now() - Date.parse(j.lastPolledAt ?? j.updatedAt) > 1000,
    });
    expect(unpolled.state).toBe("Running");
    const report = await reconcile(stack.deps, { stuckAfterSeconds: 1 });
    expect(report.repolled).toBeGreaterThanOrEqual(1);
    const job = await stack.waitFor(id);
    expect(job.state).toBe("TimedOut");
    expect(stack.emulator.stats().alive.find((g) => g.name === job.attempts[0]!.group)).toBeUndefined();
  });

  it("when paced, reads the unfinished jobs again only once their share of time has passed", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sleep", "300"], timeoutSeconds: 20 });
    await stack.waitFor(id, (j) => j.state === "Running");
    const monitor = QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getQueueClient(stack.deps.config.names.monitorQueue);
    await monitor.clearMessages();
    await waitUntil(async () => (await stack.deps.jobs.get(id))!.value, { what: `job ${id}'s last poll to be over a second old`, until: (j) => Date.now() - Date.parse(j.lastPolledAt ?? j.updatedAt) > 1000 });
    // The timer's pacing, on a clock that moves only when told.
    let now = Date.now();
    const deps = { ...stack.deps, clock: { now: () => new Date(now) } };
    const paced = { paceScan: true, stuckAfterSeconds: 1 };
    expect((await reconcile(deps, paced)).repolled).toBeGreaterThanOrEqual(1);
    await monitor.clearMessages();
    expect((await reconcile(deps, paced)).repolled).toBe(0);
    now += 60_000;
    expect((await reconcile(deps, paced)).repolled).toBeGreaterThanOrEqual(1);
    expect((await stack.waitFor(id)).state).toBe("TimedOut");
  });

  it("frees a slot held for a job that no longer holds it", async () => {
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    const { day, month } = windowsOf(new Date());
    const long = new Date(Date.now() - 3600_000).toISOString();
    expect(await stack.deps.ledger.admit(snap, [{ entry: { jobId: "jghost", key: "wait-ghost", worstUsd: 1 }, holder: { attempt: 1, reservedUsd: 1, day, month, since: long } }])).toBe(false);
    // (The waiting entry must exist for admit to succeed; put it there, then admit for real.)
    await stack.deps.ledger.addWaiting("default", { jobId: "jghost", key: "wait-ghost", worstUsd: 1 });
    const fresh = await stack.deps.ledger.snapshot("default", new Date());
    expect(await stack.deps.ledger.admit(fresh, [{ entry: { jobId: "jghost", key: "wait-ghost", worstUsd: 1 }, holder: { attempt: 1, reservedUsd: 1, day, month, since: long } }])).toBe(true);
    expect(Object.keys((await stack.deps.ledger.snapshot("default", new Date())).holders)).toContain("jghost");
    const report = await reconcile(stack.deps);
    expect(report.holdersRepaired).toBe(1);
    expect(Object.keys((await stack.deps.ledger.snapshot("default", new Date())).holders)).not.toContain("jghost");
  });

  it("gives back placement room no live attempt holds once it is older than the stuck time, and leaves a younger one", async () => {
    const placement = stack.deps.config.pools.get("default")!.placements[0]!;
    const held = async () => (await stack.deps.placements.holders()).map((h) => h.key);
    const reserved = await stack.deps.placements.reserve([placement], "jroomghost#1", 0.5, new Date());
    expect(reserved.ok).toBe(true);
    await reconcile(stack.deps, { stuckAfterSeconds: 3600 });
    expect(await held()).toContain("jroomghost#1");
    const report = await reconcile(stack.deps, { stuckAfterSeconds: 0 });
    expect(report.holdersRepaired).toBeGreaterThanOrEqual(1);
    expect(await held()).not.toContain("jroomghost#1");
  });

  it("is safe to run many times at once while jobs run", async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => stack.enqueue({ image: "alpine", command: ["sh", "-c", `sleep 1; echo ${i}`], timeoutSeconds: 60 })));
    const runs: Promise<unknown>[] = [];
    const deadline = Date.now() + 60_000;
    let done = false;
    const finished = stack.waitForAll(ids).then((jobs) => { done = true; return jobs; });
    while (!done && Date.now() < deadline) {
      runs.push(reconcile(stack.deps, { stuckAfterSeconds: 0 }), reconcile(stack.deps, { stuckAfterSeconds: 0 }), reconcile(stack.deps, { stuckAfterSeconds: 0 }));
      await new Promise((r) => setTimeout(r, 300));
    }
    await Promise.all(runs);
    const jobs = await finished;
    expect(jobs.map((j) => j.state)).toEqual(Array(6).fill("Succeeded"));
    const stats = stack.emulator.stats();
    for (const j of jobs) expect(stats.createsByName[j.attempts[0]!.group]).toBe(1);
    expect(stats.peak.byResourceGroup[rg.toLowerCase()]).toBeLessThanOrEqual(3);
  });
});

describe("the reconciler's counts", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      pools: { default: { maxConcurrency: 3, resourceGroup: `rg-rec-count-${Date.now()}` } },
      // One create per five minutes: the second job's create is throttled for minutes.
      emulator: { limits: { creates: { per5Min: 1, perHour: 300 } } },
    });
  });
  afterAll(async () => { await stack?.stop(); });

  it("does not count a create that ARM throttled as relaunched, and the job says why it waits", async () => {
    const ids = [
      await stack.enqueue({ image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120 }),
      await stack.enqueue({ image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120 }),
    ];
    // Either may be created first; the other is throttled.
    const deferred = async () => {
      for (const id of ids) {
        const job = (await stack.deps.jobs.get(id))?.value;
        if (job?.state === "Launching" && job.attempts[0]?.deferredUntil) return job;
      }
      return undefined;
    };
    const throttled = await waitUntil(deferred, { what: "one of the two creates to be throttled (Launching, deferredUntil set)", timeoutMs: 30_000 });
    const until = throttled.attempts[0]!.deferredUntil!;
    expect(Date.parse(until)).toBeGreaterThan(Date.now() + 60_000);
    // A minute on: the launch claim looks stale, but the create is deferred, not stuck.
    const later = { ...stack.deps, clock: { now: () => new Date(Date.now() + 60_000) } };
    const report = await reconcile(later, { orphanGraceSeconds: 3600 });
    expect(report.relaunched).toBe(0);
    const after = (await stack.deps.jobs.get(throttled.id))!.value;
    expect(after.attempts).toEqual(throttled.attempts);
    expect((await waitingReasons(stack.deps, [after])).get(after.id)).toMatchObject({ reason: "create-throttled", until });
  });
});
