/**
 * Burst against each shape the live service was recorded answering in: container events
 * absent (the 2023-05-01 default), present, and late (shown only after a while, newest
 * first). Outcomes must not change, and the cost estimate must never be below ACI's
 * meter, and within its stated error above it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerEventsMode } from "@burst/aci-emulator";
import type { JobRecord } from "../../src/model.js";
import { startStack, type Stack } from "../support/harness.js";

describe.each<ContainerEventsMode>(["absent", "present", "late"])("with container events %s", (mode) => {
  let stack: Stack;
  beforeAll(async () => {
    // A pull long enough that counting from the create, not the pull, shows in whole seconds.
    stack = await startStack({
      emulator: { runtime: "sim", timings: { pullDelayMs: 1500, startDelayMs: 50 }, fidelity: { containerEvents: mode, lateEventsMs: 6000 } },
      pools: { default: { maxConcurrency: 6, resourceGroup: `rg-events-${mode}-${Date.now()}` } },
    });
  });
  afterAll(async () => { await stack?.stop(); });

  const meterOf = (job: JobRecord) => stack.emulator.stats().billing.find((b) => b.name === job.attempts[0]!.group)!;

  it("ends every job as it should and never bills below ACI's meter", async () => {
    const ok = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo hi; sleep 2"], timeoutSeconds: 60 });
    const failed = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 1; exit 3"], timeoutSeconds: 60 });
    const timedOut = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 60"], timeoutSeconds: 4 });
    const jobs = await stack.waitForAll([ok, failed, timedOut]);
    expect(jobs.map((j) => [j.state, j.exitCode])).toEqual([["Succeeded", 0], ["Failed", 3], ["TimedOut", undefined]]);

    for (const job of jobs) {
      const a = job.attempts[0]!;
      const meter = meterOf(job);
      expect(meter.deleted).toBe(true);
      expect(a.billedSeconds!).toBeGreaterThanOrEqual(meter.billedSeconds);
      expect(a.billedSeconds! - meter.billedSeconds).toBeLessThanOrEqual(a.costErrorSeconds! + 1);
      // With events shown in time, the estimate comes from the Pulling event; without, from the
      // create. Late events show after lateEventsMs, which a poll delayed by a busy machine may
      // already see: either basis is right then, and each is held to its own bound below.
      if (mode === "present") expect(a.costBasis).toBe("pull-event");
      if (mode === "absent") expect(a.costBasis).toBe("accepted");
      if (a.costBasis === "pull-event") expect(a.billedSeconds! - meter.billedSeconds).toBeLessThanOrEqual(1);
      else expect(a.costErrorSeconds!).toBeGreaterThanOrEqual(1);
    }
  });

  it("ends a job whose group someone else stopped Failed, says so, and does not retry it", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 60"], timeoutSeconds: 120, retries: 2 });
    const running = await stack.waitFor(id, (j) => j.state === "Running" && j.attempts[0]!.startedAt !== undefined);
    const pool = stack.deps.config.pools.get("default")!;
    await stack.deps.aci.stop({ subscriptionId: pool.subscriptionId, resourceGroup: pool.resourceGroup, name: running.attempts[0]!.group });
    const job = await stack.waitFor(id);
    expect(job.state).toBe("Failed");
    expect(job.attempts).toHaveLength(1);
    expect(job.reason).toContain("stopped outside Burst");
    expect(job.reason).toContain("Container stopped per client request");
    expect(job.attempts[0]!.billedSeconds!).toBeGreaterThanOrEqual(meterOf(job).billedSeconds);
  });
});
