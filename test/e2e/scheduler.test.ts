import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";

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
