import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { cancelJob } from "../../src/scheduler/cancel.js";

describe("backfill behind a budget-blocked job", () => {
  let stack: Stack;
  // 1 vCPU + 1 GB at eastus rates: $0.000012486/s; with no enforcement slack a job reserves rate × timeoutSeconds.
  const rate = (0.0405 + 0.00445) / 3600;
  const spec = (timeoutSeconds: number, command: string) => ({
    image: "alpine",
    command: ["sh", "-c", command],
    cpu: 1,
    memoryGb: 1,
    timeoutSeconds,
  });
  beforeAll(async () => {
    stack = await startStack({
      pools: {
        default: {
          maxConcurrency: 10,
          resourceGroup: `rg-backfill-${Date.now()}`,
          budget: { dailyUsd: rate * 1000 },
          enforcementSlackSeconds: 0,
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("runs a tiny job while a big one waits for money a running job holds, and then the big one runs", async () => {
    // The blocker holds 501/1000 of the day's budget; the head needs 500 of the 499 left; the tiny job needs 5.
    const blocker = await stack.enqueue(spec(501, "sleep 300"));
    await stack.waitFor(blocker, (j) => j.state === "Running");
    const head = await stack.enqueue(spec(500, "echo head"));
    await stack.waitFor(head, (j) => j.state === "Waiting");
    const tiny = await stack.enqueue(spec(5, "echo tiny"));

    const done = await stack.waitFor(tiny);
    expect(done.state).toBe("Succeeded");
    expect((await stack.deps.jobs.get(head))!.value.state).toBe("Waiting");
    expect((await stack.deps.jobs.get(blocker))!.value.state).toBe("Running");

    // The blocker ends having spent far less than it reserved: the head fits now and starts.
    await cancelJob(stack.deps, blocker);
    expect((await stack.waitFor(head)).state).toBe("Succeeded");
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    expect(snap.spentDayUsd).toBeLessThanOrEqual(rate * 1000);
  });
});
