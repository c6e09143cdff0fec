/**
 * Rotating BURST_SECRET_KEY. Before key ids, a changed or lost key left every job with
 * secure values retrying in Launching, holding its slot and reservation for good. Now the
 * sealed value names its key: an old key kept in BURST_OLD_SECRET_KEYS still opens it,
 * and without one the job ends Failed, says which key is missing, and frees its slot.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { keyId } from "../../src/secrets.js";
import { ROOT, startHostProcess, type HostProcess } from "../support/hostProcess.js";
import { startStack, type Stack } from "../support/harness.js";

describe("rotating the secret key", () => {
  let stack: Stack;
  const extraHosts: HostProcess[] = [];
  beforeAll(async () => {
    stack = await startStack({ pools: { default: { maxConcurrency: 1, resourceGroup: `rg-keys-${Date.now()}` } } });
  });
  afterAll(async () => {
    await Promise.all(extraHosts.map((h) => h.stop()));
    await stack?.stop();
  });

  /** Replaces every running host with one whose settings differ. */
  async function restartHostsWith(env: Record<string, string>): Promise<void> {
    await Promise.all([...stack.hosts, ...extraHosts].map((h) => h.stop()));
    stack.hosts.length = 0;
    extraHosts.length = 0;
    extraHosts.push(await startHostProcess({ appDir: ROOT, env: { ...stack.env, ...env } }));
  }

  /** A job with a secure value that waits behind a blocker, so it is still sealed when the key changes. */
  async function waitingSecureJob(): Promise<{ blocker: string; secure: string }> {
    const blocker = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 600"], timeoutSeconds: 900 });
    await stack.waitFor(blocker, (j) => j.state === "Running");
    const secure = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo has-token"], secureEnv: { TOKEN: "s3cret-value" }, timeoutSeconds: 60 });
    await stack.waitFor(secure, (j) => j.state === "Waiting" && j.sealedSecureEnv !== undefined);
    return { blocker, secure };
  }

  it("ends a job whose key is gone Failed, naming the key, and frees the slot for the next job", async () => {
    const oldKey = Buffer.from(stack.env.BURST_SECRET_KEY!, "base64");
    const { blocker, secure } = await waitingSecureJob();
    await restartHostsWith({ BURST_SECRET_KEY: randomBytes(32).toString("base64") });
    await cancelJob(stack.deps, blocker);
    const failed = await stack.waitFor(secure);
    expect(failed.state).toBe("Failed");
    expect(failed.reason).toBe(`its secure values cannot be opened (key ${keyId(oldKey)} is not configured: set it in BURST_OLD_SECRET_KEYS)`);
    // Never sent to ACI, and the pool is not wedged: the next job runs.
    expect(stack.emulator.stats().createsByName[failed.attempts[0]!.group]).toBeUndefined();
    const next = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo next"], timeoutSeconds: 60 });
    expect((await stack.waitFor(next)).state).toBe("Succeeded");
  });

  it("still opens values sealed under a key kept in BURST_OLD_SECRET_KEYS", async () => {
    const current = randomBytes(32).toString("base64");
    await restartHostsWith({ BURST_SECRET_KEY: current });
    const { blocker, secure } = await waitingSecureJob();
    await restartHostsWith({ BURST_SECRET_KEY: randomBytes(32).toString("base64"), BURST_OLD_SECRET_KEYS: current });
    await cancelJob(stack.deps, blocker);
    const job = await stack.waitFor(secure);
    expect(job.state).toBe("Succeeded");
  });
});
