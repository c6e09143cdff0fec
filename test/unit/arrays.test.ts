import { describe, expect, it } from "vitest";
import { arrayCounts, childId, decideParent, newArrayProgress } from "../../src/scheduler/array.js";
import { transition, type Move } from "../../src/jobState.js";
import { validateSpec } from "../../src/jobSpec.js";
import type { JobRecord } from "../../src/model.js";

const now = new Date("2026-12-02T00:00:00Z");
const move: Move = (job, to, patch = {}) => transition(job, to, patch, now).job;

function parent(marks: string, created: number, array: Record<string, unknown> = {}, extra: Partial<JobRecord> = {}): JobRecord {
  const v = validateSpec({ image: "alpine", array: { count: marks.length, ...array } });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return {
    id: "jp",
    state: "Running",
    spec: v.spec,
    array: { ...newArrayProgress(marks.length), marks, created },
    attempts: [],
    costUsd: 0,
    ...extra,
  } as unknown as JobRecord;
}

describe("array jobs", () => {
  it("name children by index, five digits, so their ids sort in index order", () => {
    expect(childId("jabc", 7)).toBe("jabc-00007");
    expect([childId("j", 10), childId("j", 9), childId("j", 100)].sort()).toEqual([childId("j", 9), childId("j", 10), childId("j", 100)]);
  });

  it("refuse more than 10,000 children and an env that sets the array's variables", () => {
    const big = validateSpec({ image: "alpine", array: { count: 10_001 } });
    expect(big.ok ? [] : big.errors).toEqual([{ field: "array.count", rule: "must be at most 10000" }]);
    const env = validateSpec({ image: "alpine", env: { BURST_ARRAY_INDEX: "1" }, array: { count: 2 } });
    expect(env.ok ? [] : env.errors).toEqual([
      { field: "env.BURST_ARRAY_INDEX", rule: "is set by Burst in each array child and must not be given" },
    ]);
  });

  it("keep running while a child runs or is still to be made", () => {
    expect(decideParent(parent("S.", 2), move).state).toBe("Running");
    expect(decideParent(parent("S.", 1), move).state).toBe("Running");
  });

  it("succeed when every child did, and fail naming the failed indexes otherwise", () => {
    expect(decideParent(parent("SSS", 3), move).state).toBe("Succeeded");
    const failed = decideParent(parent("SFT", 3), move);
    expect(failed.state).toBe("Failed");
    expect(failed.reason).toBe("2 of 3 children failed (indexes 1, 2)");
  });

  it("stop at the failure past maxFailedIndexes and count the children never made as Canceled", () => {
    const p = decideParent(parent("FF.....", 2, { maxFailedIndexes: 1 }), move);
    expect(p.state).toBe("Failed");
    expect(p.array!.marks).toBe("FFCCCCC");
    expect(arrayCounts(p.array!, true).counts).toMatchObject({ Failed: 2, Canceled: 5, notCreated: 0 });
    // With one failure allowed, one failure is not enough.
    expect(decideParent(parent("F......", 1, { maxFailedIndexes: 1 }), move).state).toBe("Running");
  });

  it("end a sequential array at its first child that did not succeed", () => {
    const p = decideParent(parent("SF...", 2, { sequential: true }), move);
    expect(p.state).toBe("Failed");
    expect(p.reason).toBe("child 1 of the sequential array did not succeed; the children after it were canceled");
  });

  it("end Canceled once a canceled parent has nothing running", () => {
    expect(decideParent(parent("S.....", 2, {}, { cancelRequested: true }), move).state).toBe("Running");
    expect(decideParent(parent("SC....", 2, {}, { cancelRequested: true }), move).state).toBe("Canceled");
  });
});
