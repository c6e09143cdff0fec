import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideAdmission, windowsOf, type Budget, type Candidate, type Holder } from "../../src/admission.js";
import { heldOf, headFitsAt, shadowTime, type Held } from "../../src/backfill.js";
import { lineKey } from "../../src/scheduler/lineEntry.js";

// An hour before midnight, so the stepping oracle below reaches the next day in a few thousand steps.
const now = new Date("2026-11-27T23:00:00Z");
const { day, month } = windowsOf(now);
const holder = (reservedUsd: number, worstSeconds?: number, sinceAgo = 0, d = day): Holder => ({
  attempt: 1,
  reservedUsd,
  day: d,
  month: d.slice(0, 7),
  since: new Date(now.getTime() - sinceAgo * 1000).toISOString(),
  worstSeconds,
});
const cand = (jobId: string, worstUsd: number, worstSeconds?: number): Candidate => ({ jobId, worstUsd, worstSeconds, key: jobId });

/**
 * The head's worst-case earliest start, found independently of backfill.ts: step through
 * time second by second from now, a holder freeing its slot at its end and each window
 * counting only the reservations made in it.
 */
function earliestStartBySteps(held: Held[], spent: number, cap: number, budget: Budget, headUsd: number, horizonS: number): number {
  for (let s = 0; s <= horizonS; s++) {
    const t = now.getTime() + s * 1000;
    const w = windowsOf(new Date(t));
    const running = held.filter((h) => h.endMs > t).length;
    const dayUsed = (w.day === day ? spent : 0) + held.filter((h) => h.day === w.day).reduce((a, h) => a + h.reservedUsd, 0);
    const monthUsed = (w.month === month ? spent : 0) + held.filter((h) => h.month === w.month).reduce((a, h) => a + h.reservedUsd, 0);
    if (
      running < cap &&
      (budget.dailyUsd === undefined || dayUsed + headUsd <= budget.dailyUsd + 1e-12) &&
      (budget.monthlyUsd === undefined || monthUsed + headUsd <= budget.monthlyUsd + 1e-12)
    )
      return t;
  }
  return Infinity;
}

describe("EASY backfill", () => {
  it("starts a tiny job behind a budget-blocked $0.50 head while $0.4999 is free, and says who it went past", () => {
    const view = { holders: { big: holder(0.5001, 3600) }, spentDayUsd: 0, spentMonthUsd: 0 };
    const line = [cand("head", 0.5, 600), cand("tiny", 0.00002, 30)];
    const d = decideAdmission(view, { maxConcurrency: 10, budget: { dailyUsd: 1 }, backfill: true }, line, now);
    expect(d.admit.map((c) => c.jobId)).toEqual(["tiny"]);
    expect(d.blocked).toBe("budget");
    expect(d.head).toEqual({ jobId: "head", shadowAt: Date.parse("2026-11-28T00:00:00Z") });
    expect(d.backfilled).toEqual(["tiny"]);
  });

  it("leaves the head blocking the line when the pool turns backfill off", () => {
    const view = { holders: { big: holder(0.5001, 3600) }, spentDayUsd: 0, spentMonthUsd: 0 };
    const d = decideAdmission(
      view,
      { maxConcurrency: 10, budget: { dailyUsd: 1 } },
      [cand("head", 0.5, 600), cand("tiny", 0.00002, 30)],
      now,
    );
    expect(d.admit).toEqual([]);
  });

  it("keeps a job that would still hold the last slot the head needs at its shadow time", () => {
    // Cap 2: one holder runs past midnight, so at midnight the head needs the other slot.
    const view = { holders: { long: holder(0.6, 86_400) }, spentDayUsd: 0, spentMonthUsd: 0 };
    const line = [cand("head", 0.5, 600), cand("overnight", 0.01, 86_400), cand("short", 0.01, 60)];
    const d = decideAdmission(view, { maxConcurrency: 2, budget: { dailyUsd: 1 }, backfill: true }, line, now);
    expect(d.admit.map((c) => c.jobId)).toEqual(["short"]);
  });

  it("keeps a job whose money the head needs in a monthly window that does not roll over at midnight", () => {
    const view = { holders: { big: holder(0.6, 600) }, spentDayUsd: 0, spentMonthUsd: 9 };
    // Daily-blocked; at midnight the month has 10 - 9.6 = 0.4 left: the head ($0.3) fits then, unless a backfill takes over $0.1.
    const d = decideAdmission(
      view,
      { maxConcurrency: 10, budget: { dailyUsd: 0.8, monthlyUsd: 10 }, backfill: true },
      [cand("head", 0.3, 600), cand("b1", 0.15, 60), cand("b2", 0.05, 60)],
      now,
    );
    expect(d.admit.map((c) => c.jobId)).toEqual(["b2"]);
  });

  it("does not backfill when the head's start has no bound, nor jobs whose own end has none", () => {
    const unbounded = { holders: { a: holder(0.9), b: holder(0.05, 60) }, spentDayUsd: 0, spentMonthUsd: 0 };
    expect(
      decideAdmission(
        unbounded,
        { maxConcurrency: 2, budget: { dailyUsd: 1 }, backfill: true },
        [cand("head", 0.5, 60), cand("x", 0.01, 10)],
        now,
      ).admit,
    ).toEqual([]);
    const bounded = { holders: { a: holder(0.9, 60) }, spentDayUsd: 0, spentMonthUsd: 0 };
    expect(
      decideAdmission(
        bounded,
        { maxConcurrency: 5, budget: { dailyUsd: 1 }, backfill: true },
        [cand("head", 0.5, 60), cand("x", 0.01)],
        now,
      ).admit,
    ).toEqual([]);
  });

  it("never delays the head's worst-case start and never passes the cap or the budget, for any ledger and line", () => {
    // Money in thousandths of a dollar, so sums land near the limits instead of at extremes.
    const usd = (min: number, max: number) => fc.integer({ min, max }).map((m) => m / 1000);
    const budgetArb = fc.record({
      dailyUsd: fc.option(usd(500, 3000), { nil: undefined }),
      monthlyUsd: fc.option(usd(500, 6000), { nil: undefined }),
    });
    const holderArb = fc.record({
      usd: usd(0, 800),
      worst: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined, freq: 6 }),
      ago: fc.integer({ min: 0, max: 3000 }),
      yesterday: fc.boolean(),
    });
    // Big jobs that get blocked, and small ones that might pass them.
    const usdArb = fc.oneof(usd(0, 1000), usd(0, 50));
    const candArb = fc.record({ usd: usdArb, worst: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined, freq: 6 }) });
    let backfills = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        budgetArb,
        usd(0, 1000),
        fc.array(holderArb, { maxLength: 6 }),
        fc.array(candArb, { minLength: 1, maxLength: 10 }),
        (cap, budget, spent, hs, cs) => {
          const holders = Object.fromEntries(
            hs.slice(0, cap - 1).map((h, i) => [`h${i}`, holder(h.usd, h.worst, h.ago, h.yesterday ? "2026-11-26" : day)]),
          );
          const line = cs.map((c, i) => cand(`c${i}`, c.usd, c.worst));
          const view = { holders, spentDayUsd: spent, spentMonthUsd: spent };
          const d = decideAdmission(view, { maxConcurrency: cap, budget, backfill: true }, line, now);

          expect(Object.keys(holders).length + d.admit.length).toBeLessThanOrEqual(cap);
          const reserved = (w: "day" | "month") =>
            Object.values(holders)
              .filter((h) => h[w] === (w === "day" ? day : month))
              .reduce((a, h) => a + h.reservedUsd, 0);
          const added = d.admit.reduce((a, c) => a + c.worstUsd, 0);
          if (d.admit.length > 0 && budget.dailyUsd !== undefined)
            expect(spent + reserved("day") + added).toBeLessThanOrEqual(budget.dailyUsd + 1e-9);
          if (d.admit.length > 0 && budget.monthlyUsd !== undefined)
            expect(spent + reserved("month") + added).toBeLessThanOrEqual(budget.monthlyUsd + 1e-9);
          if (!d.head) {
            expect(d.backfilled).toBeUndefined();
            return;
          }
          const headUsd = line.find((c) => c.jobId === d.head!.jobId)!.worstUsd;
          const asHeld = (c: Candidate): Held => ({
            reservedUsd: c.worstUsd,
            day,
            month,
            endMs: c.worstSeconds === undefined ? Infinity : now.getTime() + c.worstSeconds * 1000,
          });
          const before = [...Object.values(holders).map(heldOf), ...d.admit.filter((c) => !d.backfilled?.includes(c.jobId)).map(asHeld)];
          const after = [...before, ...d.admit.filter((c) => d.backfilled?.includes(c.jobId)).map(asHeld)];
          // Three hours, step by step: past midnight (every backfilled job has ended by then, at most 8000 s on).
          const horizon = 3 * 3600;
          const startWithout = earliestStartBySteps(before, spent, cap, budget, headUsd, horizon);
          const startWith = earliestStartBySteps(after, spent, cap, budget, headUsd, horizon);
          if (d.backfilled) backfills++;
          if (d.backfilled) expect(startWith).toBeLessThanOrEqual(startWithout);
          if (Number.isFinite(startWithout)) expect(d.head.shadowAt).toBe(startWithout);
        },
      ),
      { numRuns: 400 },
    );
    // The property is about backfills: the runs must have made some.
    expect(backfills).toBeGreaterThan(20);
  });

  it("finds the shadow time at a holder's end or a window's start, whichever lets the head in first", () => {
    const base = { spentDayUsd: 0, spentMonthUsd: 0, day, month, maxConcurrency: 1, budget: {}, headWorstUsd: 1, nowMs: now.getTime() };
    expect(shadowTime({ ...base, held: [{ reservedUsd: 0, day, month, endMs: now.getTime() + 5000 }] })).toBe(now.getTime() + 5000);
    expect(shadowTime({ ...base, held: [{ reservedUsd: 0, day, month, endMs: Infinity }] })).toBe(Infinity);
    expect(
      headFitsAt(
        { ...base, maxConcurrency: 2, budget: { dailyUsd: 1.5 }, held: [{ reservedUsd: 1, day, month, endMs: 0 }] },
        now.getTime(),
      ),
    ).toBe(false);
  });
});

describe("the waiting line's order within a priority", () => {
  const job = (id: string, createdAt: string, expectedSeconds?: number, priority = 0) => ({
    id,
    priority,
    createdAt,
    spec: { expectedSeconds } as never,
    notBefore: undefined,
  });
  const jobs = [
    job("a", "2026-11-27T10:00:00Z", 30),
    job("b", "2026-11-27T10:00:01Z", 300),
    job("c", "2026-11-27T10:00:02Z"),
    job("d", "2026-11-27T10:00:03Z", 5),
    job("e", "2026-11-27T10:00:04Z", 1, 5),
  ];
  const sorted = (order: "fifo" | "longest-first" | "shortest-first") =>
    jobs
      .map((j) => [lineKey(j, order), j.id] as const)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([, id]) => id);

  it("serves arrival order in a fifo pool", () => expect(sorted("fifo")).toEqual(["e", "a", "b", "c", "d"]));
  it("serves the longest expected first, jobs without an expectation last", () =>
    expect(sorted("longest-first")).toEqual(["e", "b", "a", "d", "c"]));
  it("serves the shortest expected first, jobs without an expectation last", () =>
    expect(sorted("shortest-first")).toEqual(["e", "d", "a", "b", "c"]));
});
