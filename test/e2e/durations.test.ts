/**
 * Learned run times through the whole local stack: a job's shape learns its run time when
 * it succeeds, and the next job of that shape, given no expectedSeconds, waits in line by
 * what was learned; the pool reports how accurate the estimate was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { runningSeconds, shapeOf } from "../../src/durations.js";

describe("learned run times", () => {
  let stack: Stack;
  const work = { image: "alpine", command: ["sh", "-c", "sleep 2"], env: { INPUT: "first.csv" }, cpu: 1, memoryGb: 1 };
  beforeAll(async () => {
    stack = await startStack({
      pools: { default: { maxConcurrency: 1, resourceGroup: `rg-durations-${Date.now()}`, order: "shortest-first" } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("puts the second job of a shape in line by the run time the first one taught, and reports the estimate's error", async () => {
    const first = await stack.waitFor(await stack.enqueue(work));
    expect(first.state).toBe("Succeeded");
    expect(first.estimate).toEqual({ source: "none", shape: shapeOf(work) });
    const a = first.attempts.at(-1)!;
    const learned = runningSeconds(a.startedAt, a.finishedAt)!;
    // The finish learns just after the record says Succeeded.
    await waitUntil(() => stack.deps.durations.estimate("default", shapeOf(work)), { what: "the first run learned" });

    // A job of another shape holds the only slot, so the second one waits where its estimate puts it.
    const blocker = await stack.enqueue({ ...work, command: ["sh", "-c", "sleep 300"] });
    await stack.waitFor(blocker, (j) => j.state === "Running");
    const second = await stack.enqueue({ ...work, env: { INPUT: "second.csv" } });
    const waiting = await stack.waitFor(second, (j) => j.state === "Waiting");
    expect(waiting.estimate).toEqual({ source: "learned", seconds: learned, shape: shapeOf(work) });
    const line = await stack.deps.ledger.waiting("default", 10);
    expect(line.map((e) => e.key)).toEqual([
      `wait-1000-k${String(Math.round(learned * 1000)).padStart(10, "0")}-${waiting.createdAt}-${second}`,
    ]);

    await cancelJob(stack.deps, blocker);
    const done = await stack.waitFor(second);
    expect(done.state).toBe("Succeeded");
    const b = done.attempts.at(-1)!;
    const actual = runningSeconds(b.startedAt, b.finishedAt)!;

    // The finish learns just after the job's record says Succeeded: wait for the pool to count it.
    const pools = async () => {
      const res = await fetch(`${stack.hosts[0]!.url}/api/pools?code=${stack.env.BURST_API_KEY ?? "burst-local-key"}`);
      return ((await res.json()) as { pools: { name: string; durations: { estimatedRuns: number } }[] }).pools;
    };
    const counted = await waitUntil(pools, { what: "the pool's learned durations", until: (p) => p[0]!.durations.estimatedRuns === 1 });
    expect(counted[0]!.durations).toEqual({
      shapes: 1,
      estimatedRuns: 1,
      meanAbsRelError: Math.round((Math.abs(learned - actual) / Math.max(1, actual)) * 1000) / 1000,
    });
    expect(await stack.deps.durations.estimate("default", shapeOf(work))).toMatchObject({ runs: 2 });
    // The second job's hold taught the pool how much longer than expected its slots are held (the tail plan's
    // hold-over): settled before its record said Succeeded. The canceled blocker had no expected run time.
    const holdOver = (await stack.deps.ledger.snapshot("default", new Date())).holdOverSeconds;
    expect(holdOver).toBeGreaterThanOrEqual(0);
    expect(holdOver).toBeLessThan(60);
  });
});
