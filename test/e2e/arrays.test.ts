import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { childId } from "../../src/scheduler/array.js";
import { publicJob } from "../../src/api/views.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import type { JobRecord } from "../../src/model.js";

const get = async (stack: Stack, id: string): Promise<JobRecord | undefined> => (await stack.deps.jobs.get(id))?.value;
const logLines = async (stack: Stack, id: string) =>
  (await stack.deps.logs.read(id, 1)).text
    .split("\n")
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf(" ") + 1));

describe("an array of 1,000 children in a pool capped at 20", () => {
  let stack: Stack;
  const rg = `rg-array-${Date.now()}`;
  // ACI's default quota (100 creates per 5 minutes) would make this a test of throttling: raised here,
  // in the emulator and in the placement's limits, which Burst paces its creates to.
  const quota = { per5Min: 100_000, perHour: 100_000 };
  const placement = { subscriptionId: "00000000-0000-0000-0000-000000000000", resourceGroup: rg, region: "eastus" };
  beforeAll(async () => {
    stack = await startStack({
      pools: {
        default: {
          maxConcurrency: 20,
          placements: [{ ...placement, limits: { createsPer5Min: quota.per5Min, createsPerHour: quota.perHour } }],
        },
      },
      emulator: { limits: { creates: quota, deletes: quota } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("runs every index exactly once, never has more than 20 live groups, and gives each child its index", async () => {
    const id = await stack.enqueue({
      image: "alpine",
      command: ["sh", "-c", "echo index $BURST_ARRAY_INDEX of $BURST_ARRAY_SIZE"],
      timeoutSeconds: 60,
      array: { count: 1000 },
    });
    const parent = await stack.waitFor(id, undefined, 600_000);
    expect(parent.state).toBe("Succeeded");
    const stats = stack.emulator.stats();
    expect(stats.peak.byResourceGroup[rg.toLowerCase()]).toBeLessThanOrEqual(20);
    expect(stats.peak.byResourceGroup[rg.toLowerCase()]).toBe(20);
    // One group per index, each created once.
    const names = Object.keys(stats.createsByName);
    expect(names).toHaveLength(1000);
    expect(Object.values(stats.createsByName).every((n) => n === 1)).toBe(true);
    expect(new Set(names)).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => `burst-${childId(id, i)}-1`)));
    for (const i of [0, 1, 499, 999]) expect(await logLines(stack, childId(id, i))).toEqual([`index ${i} of 1000`]);

    const view = publicJob(parent, { now: new Date() });
    expect(view.array).toMatchObject({
      count: 1000,
      created: 1000,
      counts: { Succeeded: 1000, Failed: 0, running: 0, notCreated: 0 },
      failedIndexes: [],
    });
    expect(view.array!.billedSeconds).toBeGreaterThan(0);
    expect(parent.costUsd).toBeGreaterThan(0);
  }, 660_000);
});

describe("array limits and failures", () => {
  let stack: Stack;
  const rg = `rg-arrayf-${Date.now()}`;
  beforeAll(async () => {
    stack = await startStack({ pools: { default: { maxConcurrency: 6, resourceGroup: rg } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("keeps at most `parallelism` children of the array running, below the pool's cap", async () => {
    const id = await stack.enqueue({
      image: "alpine",
      command: ["sh", "-c", "sleep 1"],
      timeoutSeconds: 60,
      array: { count: 8, parallelism: 2 },
    });
    let most = 0;
    const parent = await stack.waitFor(
      id,
      (j) => {
        most = Math.max(most, j.array ? j.array.created - [...j.array.marks.slice(0, j.array.created)].filter((m) => m !== ".").length : 0);
        return j.state === "Succeeded" || j.state === "Failed";
      },
      120_000,
    );
    expect(parent.state).toBe("Succeeded");
    expect(most).toBeLessThanOrEqual(2);
    expect(stack.emulator.stats().peak.byResourceGroup[rg.toLowerCase()]).toBeLessThanOrEqual(2);
  }, 150_000);

  it("fails the parent once more than maxFailedIndexes children failed, and cancels what still waits", async () => {
    // Index 0 exits 0, every other index exits with its index; one at a time, so the third failure (index 3) stops the rest.
    const id = await stack.enqueue({
      image: "alpine",
      command: ["sh", "-c", "exit $BURST_ARRAY_INDEX"],
      timeoutSeconds: 60,
      array: { count: 40, parallelism: 1, maxFailedIndexes: 2 },
    });
    const parent = await stack.waitFor(id, undefined, 120_000);
    expect(parent.state).toBe("Failed");
    expect(parent.reason).toMatch(/3 children failed, more than maxFailedIndexes 2 \(indexes 1, 2, 3\)/);
    const view = publicJob(parent, { now: new Date() });
    expect(view.array!.failedIndexes).toEqual([1, 2, 3]);
    expect(view.array!.counts).toMatchObject({ Succeeded: 1, Failed: 3, Canceled: 36, running: 0 });
    // Children past the stop were never made, so never ran.
    expect(await get(stack, childId(id, 10))).toBeUndefined();
  }, 150_000);

  it("gives every child the parent's secure values, sealed once under the parent's id", async () => {
    const id = await stack.enqueue({
      image: "alpine",
      command: ["sh", "-c", "echo $TOKEN $BURST_ARRAY_INDEX"],
      secureEnv: { TOKEN: "s3cr3t" },
      timeoutSeconds: 60,
      array: { count: 2 },
    });
    expect((await stack.waitFor(id, undefined, 60_000)).state).toBe("Succeeded");
    for (const i of [0, 1]) expect(await logLines(stack, childId(id, i))).toEqual([`s3cr3t ${i}`]);
    expect(JSON.stringify(await get(stack, childId(id, 1)))).not.toContain("s3cr3t");
  }, 90_000);

  it("cancels every unfinished child when the parent is canceled, and ends Canceled", async () => {
    const id = await stack.enqueue({
      image: "alpine",
      command: ["sh", "-c", "sleep 30"],
      timeoutSeconds: 120,
      array: { count: 30, parallelism: 3 },
    });
    await stack.waitFor(id, (j) => j.state === "Running" && (j.array?.created ?? 0) >= 3, 60_000);
    await waitUntil(async () => (await get(stack, childId(id, 0)))?.state === "Running", {
      what: "the first child to run",
      timeoutMs: 60_000,
    });
    await cancelJob(stack.deps, id);
    const parent = await stack.waitFor(id, undefined, 90_000);
    expect(parent.state).toBe("Canceled");
    for (let i = 0; i < 3; i++) expect((await get(stack, childId(id, i)))?.state).toBe("Canceled");
    expect(publicJob(parent, { now: new Date() }).array!.counts).toMatchObject({ Canceled: 30, Succeeded: 0, running: 0 });
    await waitUntil(() => stack.emulator.stats().aliveCount === 0, { what: "every group to be deleted", timeoutMs: 30_000 });
  }, 200_000);
});
