/**
 * EASY backfill, pure (as Slurm's backfill scheduler does it, reduced to one slot per job).
 * When the head of a pool's line is blocked by the budget, it gets a reservation: the
 * earliest time it could start if every running job held its slot to its worst-case end
 * (admission + launch allowance + time limit + enforcement slack) and spent its whole
 * reservation (the budget's worst case: a reservation turns into spend of at most the same
 * amount at settlement). That time is the head's "shadow time". A later job may start now
 * only if adding it, at its own worst case, leaves the shadow time where it was: it ends
 * before it, or it takes only slots and money the head will not need then.
 *
 * Under worst cases a budget-blocked head can only start when a budget window rolls over
 * (a new UTC day or month), since running jobs never give money back in their own window;
 * a backfilled job charges its admission window, so it cannot take the new window's money.
 * Learned or hinted durations are estimates, not bounds, so they play no part here.
 */
import type { Budget, Holder } from "./admission.js";

/** The UTC budget windows a moment falls in. */
export function windowsOf(now: Date): { day: string; month: string } {
  const iso = now.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

/** A slot holder as the shadow arithmetic sees it: what it reserved, in which windows, and when it ends at the latest. */
export interface Held {
  reservedUsd: number;
  day: string;
  month: string;
  /** Epoch ms; Infinity when nothing bounds it. */
  endMs: number;
}

export interface ShadowInput {
  held: Held[];
  spentDayUsd: number;
  spentMonthUsd: number;
  /** The windows `spent*` belong to (now's). */
  day: string;
  month: string;
  maxConcurrency: number;
  budget: Budget;
  headWorstUsd: number;
  nowMs: number;
}

/** The latest a holder can keep its slot: `since` + worstSeconds; unbounded when worstSeconds is unknown (entries written before it was recorded). */
export function heldOf(h: Pick<Holder, "reservedUsd" | "day" | "month" | "since" | "worstSeconds">): Held {
  const endMs = h.worstSeconds === undefined ? Infinity : Date.parse(h.since) + h.worstSeconds * 1000;
  return { reservedUsd: h.reservedUsd, day: h.day, month: h.month, endMs };
}

/** Whether the head could start at time `t` under the worst case. */
export function headFitsAt(s: ShadowInput, t: number): boolean {
  const running = s.held.filter((h) => h.endMs > t).length;
  if (running >= s.maxConcurrency) return false;
  const { day, month } = windowsOf(new Date(t));
  // Every holder counts in its own windows whether it has ended or not: ended, its spend is at most its reservation.
  let dayUsed = day === s.day ? s.spentDayUsd : 0;
  let monthUsed = month === s.month ? s.spentMonthUsd : 0;
  for (const h of s.held) {
    if (h.day === day) dayUsed += h.reservedUsd;
    if (h.month === month) monthUsed += h.reservedUsd;
  }
  const fitsDay = s.budget.dailyUsd === undefined || dayUsed + s.headWorstUsd <= s.budget.dailyUsd + 1e-12;
  const fitsMonth = s.budget.monthlyUsd === undefined || monthUsed + s.headWorstUsd <= s.budget.monthlyUsd + 1e-12;
  return fitsDay && fitsMonth;
}

/**
 * The head's shadow time (epoch ms): the earliest moment it fits under the worst case;
 * Infinity when it never does (a holder without a bound keeps a slot it needs). Fitting
 * changes only when a holder ends (slots) or a window starts (budget): holders belong to
 * this month or earlier, so past the next month's start only slots matter, and those
 * moments and now are the only ones to try.
 */
export function shadowTime(s: ShadowInput): number {
  const now = new Date(s.nowMs);
  const nextDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const moments = [s.nowMs, nextDay, nextMonth, ...s.held.map((h) => h.endMs)]
    .filter((t) => Number.isFinite(t))
    .map((t) => Math.max(t, s.nowMs))
    .sort((a, b) => a - b);
  for (const t of moments) if (headFitsAt(s, t)) return t;
  return Infinity;
}
