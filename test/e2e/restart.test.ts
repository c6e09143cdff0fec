/**
 * Restarting the local stack while a job runs, as `npm start` does it: the hosts stop,
 * then the emulator; later the emulator starts again on the same port, then a host.
 * The running attempt must end at the moment its group was last known alive — never
 * billed for the downtime — and, as the stop was not the job's fault, be retried as a
 * platform failure. (The second case restarts only the emulator: what matters there is
 * that its groups are gone, and a host restart would only add time.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { cancelJob } from "../../src/scheduler/cancel.js";
import type { JobRecord } from "../../src/model.js";
import { startStack, type Stack } from "../support/harness.js";

const TIMINGS = { pullDelayMs: 200, startDelayMs: 50 };

describe("a restart of the local stack while a job runs", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "burst-restart-"));
  const stateFile = path.join(dir, "emulator-state.json");
  let stack: Stack;
  let emulator: RunningEmulator;
  beforeAll(async () => {
    stack = await startStack({
      emulator: { stateFile, timings: TIMINGS },
      pools: { default: { maxConcurrency: 2, resourceGroup: `rg-restart-${Date.now()}`, maxPlatformRetries: 1 } },
    });
    emulator = stack.emulator;
  });
  afterAll(async () => {
    await stack?.stop();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stops (hosts and) emulator in npm start's order, then starts them again; answers when the emulator stopped. */
  async function restart(options: { keepState: boolean; hosts: boolean }): Promise<{ stopping: number; stopped: number }> {
    if (options.hosts) await Promise.all(stack.hosts.splice(0).map((h) => h.stop()));
    const stopping = Date.now();
    await emulator.close();
    const stopped = Date.now();
    if (!options.keepState) rmSync(stateFile, { force: true });
    emulator = await startEmulator({ runtime: "sim", timings: TIMINGS, token: stack.env.BURST_EMULATOR_TOKEN, port: stack.emulator.port, stateFile });
    if (options.hosts) await stack.addHost();
    return { stopping, stopped };
  }

  async function runningJob(): Promise<JobRecord> {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo up; sleep 600"], timeoutSeconds: 900 });
    const job = await stack.waitFor(id, (j) => j.state === "Running");
    // Its container runs (and is billed) by the emulator's own account, without waiting for Burst's next poll to see it.
    await stack.waitFor(id, () => emulator.stats().alive.some((g) => g.name === job.attempts[0]!.group && g.state === "Running"));
    return job;
  }

  /** The attempt ended and the job went back to wait for a retry; cancelled there, so nothing runs on. */
  async function retried(id: string): Promise<JobRecord> {
    const job = await stack.waitFor(id, (j) => j.state === "Waiting" && j.attempts.length === 1);
    await cancelJob(stack.deps, id);
    return job;
  }

  it("ends the attempt at the shutdown moment when the emulator kept its group: billed no later than that, and retried as a platform failure", async () => {
    const before = await runningJob();
    const { stopping, stopped } = await restart({ keepState: true, hosts: true });
    const shutdownAt = Date.parse(emulator.restored!.savedAt);

    const job = await retried(before.id);
    const a = job.attempts[0]!;
    expect(a.outcome).toBe("PlatformError");
    expect(a.exitCode).toBeUndefined();
    expect(a.reason).toContain("the ACI emulator stopped");
    expect(job.platformFailures).toBe(1);
    expect(job.ownFailures).toBe(0);
    // Billed to the moment the emulator stopped, the end ACI reported, not to when Burst noticed after the restart.
    expect(Date.parse(a.stoppedAt!)).toBe(shutdownAt);
    expect(shutdownAt).toBeGreaterThanOrEqual(stopping);
    expect(shutdownAt).toBeLessThanOrEqual(stopped);
    expect(Date.parse(a.detectedAt!)).toBeGreaterThan(stopped);
    const meter = emulator.stats().billing.find((b) => b.name === a.group)!;
    expect(Date.parse(meter.lastEnd!)).toBe(shutdownAt);
    expect(a.billedSeconds).toBeGreaterThanOrEqual(meter.billedSeconds);
    expect(a.billedSeconds).toBeLessThanOrEqual(meter.billedSeconds + 1);
  });

  it("ends the attempt at the last poll that saw it alive when its group is gone after the restart, not when Burst noticed", async () => {
    const before = await runningJob();
    const { stopping, stopped } = await restart({ keepState: false, hosts: false });

    const job = await retried(before.id);
    const a = job.attempts[0]!;
    expect(a.outcome).toBe("PlatformError");
    expect(a.reason).toContain("the container group disappeared");
    expect(job.platformFailures).toBe(1);
    const seenAlive = Date.parse(a.stoppedAt!);
    expect(seenAlive).toBeGreaterThanOrEqual(Date.parse(before.lastPolledAt!));
    // Not the moment Burst noticed, after the restart, which billed the downtime.
    expect(seenAlive).toBeLessThan(stopping);
    expect(Date.parse(a.detectedAt!)).toBeGreaterThan(stopped);
    expect(a.billedSeconds).toBeLessThanOrEqual(Math.ceil((stopping - Date.parse(a.launchedAt!)) / 1000));
  });
});
