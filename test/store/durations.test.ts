/**
 * The learned run times against real Table storage (Azurite): concurrent finishes of one
 * shape each add their sample (ETag-guarded), and the pool's summary adds the shapes up.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { TableDurationStore } from "../../src/store/durationStore.js";
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
});
