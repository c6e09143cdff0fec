import { describe, expect, it } from "vitest";
import { addRun, emptyShape, estimateOf, percentile, runningSeconds, SAMPLE_SIZE, shapeOf } from "../../src/durations.js";
import { lineKey } from "../../src/scheduler/lineEntry.js";

describe("job shapes", () => {
  const base = { image: "alpine:3.20", command: ["sh", "-c", "make"], env: { INPUT: "a.csv", MODE: "fast" } };

  it("gives the same shape whatever the env values and their order, and never holds a value", () => {
    const other = { ...base, env: { MODE: "slow", INPUT: "b.csv" } };
    expect(shapeOf(other)).toBe(shapeOf(base));
    expect(shapeOf(base)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("counts secure env names, never their values, as env names", () => {
    const a = { image: "alpine", command: ["x"], secureEnv: { TOKEN: "s1" } };
    expect(shapeOf({ ...a, secureEnv: { TOKEN: "s2" } })).toBe(shapeOf(a));
    expect(shapeOf({ image: "alpine", command: ["x"], env: { TOKEN: "s1" } })).toBe(shapeOf(a));
  });

  it("tells apart shapes that differ in image, command or env names", () => {
    const s = shapeOf(base);
    expect(shapeOf({ ...base, image: "alpine:3.21" })).not.toBe(s);
    expect(shapeOf({ ...base, command: ["sh", "-c", "make all"] })).not.toBe(s);
    expect(shapeOf({ ...base, env: { INPUT: "a.csv" } })).not.toBe(s);
    expect(shapeOf({ image: "alpine:3.20" })).not.toBe(shapeOf({ image: "alpine:3.20", command: [] }));
  });
});

describe("a shape's sample", () => {
  it(`keeps only the last ${SAMPLE_SIZE} run times`, () => {
    let d = emptyShape();
    for (let i = 1; i <= SAMPLE_SIZE + 10; i++) d = addRun(d, i);
    expect(d.samples).toHaveLength(SAMPLE_SIZE);
    expect(d.samples[0]).toBe(11);
    expect(d.samples.at(-1)).toBe(SAMPLE_SIZE + 10);
  });

  it("gives the median and p90 by nearest rank", () => {
    let d = emptyShape();
    for (const s of [50, 10, 40, 20, 30, 60, 70, 80, 90, 100]) d = addRun(d, s);
    expect(estimateOf(d)).toEqual({ medianSeconds: 50, p90Seconds: 90, runs: 10 });
    expect(percentile([7], 0.9)).toBe(7);
    expect(estimateOf(emptyShape())).toBeUndefined();
  });

  it("counts the error of the estimate a run used, relative to what it took, and none for a run without one", () => {
    let d = addRun(emptyShape(), 100, 80);
    d = addRun(d, 50, 100);
    d = addRun(d, 30);
    expect(d.estimatedRuns).toBe(2);
    expect(d.absRelErrorSum).toBeCloseTo(0.2 + 1.0);
    // A run of no measurable time is compared against one second, not divided by zero.
    expect(addRun(emptyShape(), 0, 2).absRelErrorSum).toBe(2);
  });

  it("measures a run from its start to its finish, and not without both", () => {
    expect(runningSeconds("2026-12-02T10:00:00.000Z", "2026-12-02T10:01:30.500Z")).toBe(90.5);
    expect(runningSeconds(undefined, "2026-12-02T10:01:30.500Z")).toBeUndefined();
  });
});

describe("the waiting key of a job with a learned estimate", () => {
  const job = { id: "j1", priority: 0, createdAt: "2026-12-02T10:00:00.000Z", spec: { image: "alpine" } as never, notBefore: undefined };

  it("orders it by the learned median, as a hint would, and a hint wins over it", () => {
    const learned = lineKey({ ...job, estimate: { source: "learned", seconds: 12, shape: "s" } }, "shortest-first");
    expect(learned).toBe("wait-1000-k0000012000-2026-12-02T10:00:00.000Z-j1");
    const hinted = lineKey(
      { ...job, spec: { image: "alpine", expectedSeconds: 3 } as never, estimate: { source: "hint", seconds: 3, shape: "s" } },
      "shortest-first",
    );
    expect(hinted).toBe("wait-1000-k0000003000-2026-12-02T10:00:00.000Z-j1");
    expect(lineKey({ ...job, estimate: { source: "none", shape: "s" } }, "longest-first")).toBe("wait-1000-u-2026-12-02T10:00:00.000Z-j1");
  });
});
