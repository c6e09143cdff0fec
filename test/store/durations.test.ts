/**
 * The learned run times against real Table storage (Azurite): concurrent finishes of one
 * shape each add their sample (ETag-guarded), and the pool's summary adds the shapes up.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { TableDurationStore } from "../../src/store/durationStore.js";
import { MAX_SHAPES_PER_POOL } from "../../src/durations.js";
import { FULL_WARNING_EVERY_MS, learnFrom } from "../../src/scheduler/learn.js";
import type { JobRecord } from "../../src/model.js";
import type { Deps } from "../../src/scheduler/deps.js";
import { tableClient } from "../../src/store/tables.js";

const freshTable = () => `durations${randomBytes(6).toString("hex")}`;
const freshStore = (table = freshTable()) => new TableDurationStore(tableClient(inject("storageConnectionString"), table));

describe("the duration store", () => {
  it("keeps every sample when many finishes of one shape update it at once", async () => {
    const store = freshStore();
    const runs = Array.from({ length: 12 }, (_, i) => 10 + i);
    const results = await Promise.all(runs.map((s) => store.record("default", "shape0000000001", "alpine", s, 15)));
    expect(results.every((r) => r === "recorded")).toBe(true);
    const est = await store.estimate("default", "shape0000000001");
    expect(est).toEqual({ medianSeconds: 15, p90Seconds: 20, runs: 12 });
    const summary = await store.summary("default");
    expect(summary.shapes).toBe(1);
    expect(summary.estimatedRuns).toBe(12);
    // |15 − s| / s over s = 10…21.
    const expected = runs.reduce((sum, s) => sum + Math.abs(15 - s) / s, 0) / runs.length;
    expect(summary.meanAbsRelError).toBeCloseTo(expected, 3);
  });

  it("knows nothing of a shape it never saw, nor of another pool's", async () => {
    const store = freshStore();
    await store.record("a", "shape0000000002", "alpine", 30);
    expect(await store.estimate("a", "shape0000000003")).toBeUndefined();
    expect(await store.estimate("b", "shape0000000002")).toBeUndefined();
    expect(await store.summary("b")).toEqual({ shapes: 0, estimatedRuns: 0, meanAbsRelError: null });
    expect(await store.summary("a")).toEqual({ shapes: 1, estimatedRuns: 0, meanAbsRelError: null });
  });

  it("keeps every sample when two instances take turns, each starting from the row it saw last", async () => {
    const table = freshTable();
    const [a, b] = [freshStore(table), freshStore(table)];
    // Each has seen the shape absent; then each writes in turn, so each one's remembered row is stale by the other's write.
    expect(await a.estimate("default", "shape0000000004")).toBeUndefined();
    expect(await b.estimate("default", "shape0000000004")).toBeUndefined();
    for (const [i, store] of [a, b, a, b, a].entries())
      expect(await store.record("default", "shape0000000004", "alpine", 10 + i)).toBe("recorded");
    expect(await freshStore(table).estimate("default", "shape0000000004")).toMatchObject({ runs: 5, medianSeconds: 12 });
  });

  it("counts a pool's shapes for a new shape at most once a minute, adding the shapes it made itself", async () => {
    let now = Date.parse("2026-12-02T10:00:00Z");
    const client = tableClient(inject("storageConnectionString"), freshTable());
    const store = new TableDurationStore(client, () => now);
    const counts = vi.spyOn(client, "listEntities");
    for (const i of [1, 2, 3]) expect(await store.record("default", `shape000000001${i}`, "alpine", 5)).toBe("recorded");
    expect(counts).toHaveBeenCalledTimes(1);
    now += 61_000;
    expect(await store.record("default", "shape0000000014", "alpine", 5)).toBe("recorded");
    expect(counts).toHaveBeenCalledTimes(2);
    // A known shape needs no count at all.
    expect(await store.record("default", "shape0000000014", "alpine", 6)).toBe("recorded");
    expect(counts).toHaveBeenCalledTimes(2);
    expect((await store.summary("default")).shapes).toBe(4);
  });

  it("learns no new shape in a pool that keeps the most shapes, and says so once an hour, not once a job", async () => {
    let now = Date.parse("2026-12-03T10:00:00Z");
    const store = new TableDurationStore(tableClient(inject("storageConnectionString"), freshTable()), () => now);
    const shapes = Array.from({ length: MAX_SHAPES_PER_POOL }, (_, i) => `shapefull${String(i).padStart(6, "0")}`);
    for (let i = 0; i < shapes.length; i += 25)
      await Promise.all(shapes.slice(i, i + 25).map((shape) => store.record("full", shape, "alpine", 5)));
    // The store counts a pool's shapes afresh once its count is a minute old.
    now += 61_000;
    const warned: string[] = [];
    const deps = {
      durations: store,
      log: { warn: (m: string) => void warned.push(m) },
      clock: { now: () => new Date(now) },
    } as unknown as Deps;
    const succeeded = (id: string, shape: string): JobRecord =>
      ({
        id,
        pool: "full",
        state: "Succeeded",
        spec: { image: "alpine", command: ["echo", id] },
        estimate: { source: "none", shape },
        attempts: [{ n: 1, group: `g-${id}`, outcome: "Succeeded", startedAt: "2026-12-03T09:59:50Z", finishedAt: "2026-12-03T09:59:57Z" }],
      }) as unknown as JobRecord;
    for (const i of [1, 2, 3]) await learnFrom(deps, succeeded(`j${i}`, `shapenew00000${i}`));
    expect(warned).toEqual([
      expect.stringMatching(
        /^pool full: not learning shape shapenew000001, nor any other new shape: .*\(500\); said at most once an hour$/,
      ),
    ]);
    expect(await store.estimate("full", "shapenew000001")).toBeUndefined();
    now += FULL_WARNING_EVERY_MS;
    await learnFrom(deps, succeeded("j4", "shapenew000004"));
    expect(warned).toHaveLength(2);
    // A shape the pool keeps still learns.
    await learnFrom(deps, succeeded("j5", shapes[0]!));
    expect(await store.estimate("full", shapes[0]!)).toMatchObject({ runs: 2 });
  });
});
