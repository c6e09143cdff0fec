import { describe, expect, it } from "vitest";
import { createRng } from "@burst/aci-emulator";
import { planSlots, type Plannable } from "../../src/slotPlan.js";
import { planWorkload } from "../../bench/workload.js";

const job = (jobId: string, expectedSeconds?: number): Plannable => ({ jobId, expectedSeconds });
const at = (seconds: number) => seconds * 1000;

describe("the tail plan of a longest-first pool", () => {
  it("starts a shorter job on the free slot when the longest fits better on a slot that frees soon", () => {
    // Longest-first: the free slot takes 4 (ends at 4), the busy one frees at 2 and takes 3 (5), the last 3 ends at 7.
    // Planned: the free slot takes 3 and 3 (6), the busy slot 4 once it frees (6).
    const planned = planSlots({
      line: [job("a", 4), job("b", 3), job("c", 3)],
      slots: 2,
      holderEnds: [at(2)],
      nowMs: 0,
      holdOverSeconds: 0,
    });
    expect(planned!.map((j) => j.jobId)).toEqual(["b", "a", "c"]);
  });

  it("counts the pool's hold-over in every job's slot time", () => {
    // A holder frees its slot at 1 s. Without hold-over the free slot takes the 2 s job and the busy one both 1 s jobs (3 s).
    // With 10 s on each job, two 1 s jobs on the free slot end at 22 s, before a 2 s job there and two on the busy slot (23 s).
    const line = [job("a", 2), job("b", 1), job("c", 1)];
    expect(planSlots({ line, slots: 2, holderEnds: [at(1)], nowMs: 0, holdOverSeconds: 0 })![0]!.jobId).toBe("a");
    expect(planSlots({ line, slots: 2, holderEnds: [at(1)], nowMs: 0, holdOverSeconds: 10 })![0]!.jobId).toBe("b");
  });

  it("keeps every job exactly once", () => {
    const line = Array.from({ length: 30 }, (_, i) => job(`j${i}`, 1 + ((i * 7) % 13)));
    const planned = planSlots({ line, slots: 8, holderEnds: [at(3), at(9)], nowMs: 0, holdOverSeconds: 2 })!;
    expect(planned.map((j) => j.jobId).sort()).toEqual(line.map((j) => j.jobId).sort());
  });

  it("makes no plan without a measured hold-over, a job's expected run time, a holder's expected end or a free slot", () => {
    const line = [job("a", 4), job("b", 3)];
    expect(planSlots({ line, slots: 2, holderEnds: [], nowMs: 0, holdOverSeconds: undefined })).toBeUndefined();
    expect(planSlots({ line: [...line, job("c")], slots: 2, holderEnds: [], nowMs: 0, holdOverSeconds: 1 })).toBeUndefined();
    expect(planSlots({ line, slots: 2, holderEnds: [undefined], nowMs: 0, holdOverSeconds: 1 })).toBeUndefined();
    expect(planSlots({ line, slots: 1, holderEnds: [at(5)], nowMs: 0, holdOverSeconds: 1 })).toBeUndefined();
  });

  it("ends the benchmark's batch sooner than longest-first when the slots follow the plan as they free", () => {
    // 200 lognormal jobs (median 15 s, σ 0.6) on 40 slots, each holding its slot 2.5–6.5 s longer than its expected run
    // (the emulator's pull delay), which the plan counts as its mean: the pump's view once the line is short.
    const rng = createRng(7);
    const work = planWorkload(200, 1, { kind: "lognormal", medianSeconds: 15, sigma: 0.6 }).map((p) => ({
      expected: p.durationSeconds,
      actual: p.durationSeconds + 2.5 + 4 * rng(),
    }));
    const slots = 40;
    const bound = work.reduce((a, w) => a + w.actual, 0) / slots;
    const byLongest = [...work].sort((a, b) => b.expected - a.expected);
    const longestFirst = listSchedule(slots, byLongest, () => 0);
    const planned = listSchedule(slots, byLongest, (waiting, holders, nowMs) => {
      if (waiting.length > 3 * slots) return 0;
      const line = waiting.map((w, i) => job(String(i), w.expected));
      const order = planSlots({
        line,
        slots,
        holderEnds: holders.map((h) => h.startMs + at(h.expected + 4.5)),
        nowMs,
        holdOverSeconds: 4.5,
      });
      return order ? Number(order[0]!.jobId) : 0;
    });
    expect(planned).toBeLessThan(longestFirst - 1);
    expect(planned / bound).toBeLessThan(1.035);
    expect(longestFirst / bound).toBeGreaterThan(1.04);
  });
});

interface Work {
  expected: number;
  actual: number;
}

/** A zero-overhead list schedule: whenever a slot frees, it takes the job `pick` chooses (an index into the waiting jobs). */
function listSchedule(
  slots: number,
  jobs: Work[],
  pick: (waiting: Work[], holders: (Work & { startMs: number })[], nowMs: number) => number,
): number {
  const waiting = [...jobs];
  let running: (Work & { startMs: number; endMs: number })[] = [];
  let nowMs = 0;
  let end = 0;
  while (waiting.length > 0) {
    if (running.length === slots) {
      nowMs = Math.min(...running.map((r) => r.endMs));
      running = running.filter((r) => r.endMs > nowMs);
    }
    const [w] = waiting.splice(pick(waiting, running, nowMs), 1);
    const endMs = nowMs + at(w!.actual);
    running.push({ ...w!, startMs: nowMs, endMs });
    end = Math.max(end, endMs);
  }
  return end / 1000;
}
