/**
 * Admission arithmetic, pure: who may take a slot now. A job is admitted only if the
 * pool has a free slot and its worst-case cost fits what is left of every budget
 * window (spent + reserved + worst ≤ limit). The waiting line is served in its order
 * (priority, then the pool's `order`, then arrival). When the budget stops the head,
 * later jobs start only by EASY backfill (backfill.ts): if they cannot delay the head's
 * worst-case start, so small jobs cannot starve a big one. With backfill off the head
 * blocks everything behind it.
 */
import { heldOf, shadowTime, windowsOf, type Held } from "./backfill.js";

export interface Holder {
  attempt: number;
  reservedUsd: number;
  day: string;
  month: string;
  since: string;
  /** The longest the slot can be held from `since` (see lineEntry.ts worstHoldSeconds); absent on holders admitted before it was recorded. */
  worstSeconds?: number;
  /** Its expected run time as its line entry had it (slotPlan.ts); absent when it had none. */
  expectedSeconds?: number;
}

export interface Budget {
  dailyUsd?: number;
  monthlyUsd?: number;
}

export interface LedgerView {
  holders: Record<string, Holder>;
  spentDayUsd: number;
  spentMonthUsd: number;
}

export interface Candidate {
  jobId: string;
  worstUsd: number;
  notBefore?: string;
  key: string;
  /** The longest it would hold a slot once admitted; absent: unbounded (it is then never backfilled). */
  worstSeconds?: number;
  /** Its expected run time (`expectedSeconds`, else its shape's learned median); absent when it has neither. */
  expectedSeconds?: number;
}

export { windowsOf };

export function reservedIn(holders: Record<string, Holder>, window: { day?: string; month?: string }): number {
  let sum = 0;
  for (const h of Object.values(holders)) {
    if ((window.day && h.day === window.day) || (window.month && h.month === window.month)) sum += h.reservedUsd;
  }
  return sum;
}

/** Why a job can never be admitted to this pool, or undefined when it can. */
export function neverFits(worstUsd: number | undefined, budget: Budget): string | undefined {
  const limited = budget.dailyUsd !== undefined || budget.monthlyUsd !== undefined;
  if (!limited) return undefined;
  if (worstUsd === undefined) {
    return "the pool has a budget, so the job needs timeoutSeconds or maxCostUsd to bound its cost";
  }
  if (budget.dailyUsd !== undefined && worstUsd > budget.dailyUsd) {
    return `its worst-case cost $${worstUsd.toFixed(6)} is more than the pool's whole daily budget $${budget.dailyUsd}`;
  }
  if (budget.monthlyUsd !== undefined && worstUsd > budget.monthlyUsd) {
    return `its worst-case cost $${worstUsd.toFixed(6)} is more than the pool's whole monthly budget $${budget.monthlyUsd}`;
  }
  return undefined;
}

export interface AdmissionDecision {
  admit: Candidate[];
  blocked?: "slots" | "budget";
  /** The budget-blocked head and its shadow time (epoch ms, Infinity if unbounded), when backfill looked past it. */
  head?: { jobId: string; shadowAt: number };
  /** Of `admit`, those that started behind the blocked head. */
  backfilled?: string[];
}

export function decideAdmission(
  view: LedgerView,
  pool: { maxConcurrency: number; budget: Budget; backfill?: boolean },
  candidates: Candidate[],
  now: Date,
): AdmissionDecision {
  const { day, month } = windowsOf(now);
  let free = pool.maxConcurrency - Object.keys(view.holders).length;
  let dayUsed = view.spentDayUsd + reservedIn(view.holders, { day });
  let monthUsed = view.spentMonthUsd + reservedIn(view.holders, { month });
  const admit: Candidate[] = [];
  const fitsNow = (c: Candidate) =>
    (pool.budget.dailyUsd === undefined || dayUsed + c.worstUsd <= pool.budget.dailyUsd + 1e-12) &&
    (pool.budget.monthlyUsd === undefined || monthUsed + c.worstUsd <= pool.budget.monthlyUsd + 1e-12);
  const take = (c: Candidate) => {
    admit.push(c);
    free--;
    dayUsed += c.worstUsd;
    monthUsed += c.worstUsd;
  };
  for (const [i, c] of candidates.entries()) {
    if (c.jobId in view.holders) continue;
    if (c.notBefore && Date.parse(c.notBefore) > now.getTime()) continue;
    if (free <= 0) return { admit, blocked: "slots" };
    if (!fitsNow(c)) {
      if (!pool.backfill) return { admit, blocked: "budget" };
      return backfillBehind(c, candidates.slice(i + 1));
    }
    take(c);
  }
  return { admit };

  /** The head is budget-blocked: admit later jobs that leave its shadow time where it is. */
  function backfillBehind(head: Candidate, rest: Candidate[]): AdmissionDecision {
    const nowMs = now.getTime();
    const asHeld = (c: Candidate): Held => ({ reservedUsd: c.worstUsd, day, month, endMs: c.worstSeconds === undefined ? Infinity : nowMs + c.worstSeconds * 1000 });
    const held = [...Object.values(view.holders).map(heldOf), ...admit.map(asHeld)];
    const shadow = (extra: Held[]) => shadowTime({ held: [...held, ...extra], spentDayUsd: view.spentDayUsd, spentMonthUsd: view.spentMonthUsd, day, month, maxConcurrency: pool.maxConcurrency, budget: pool.budget, headWorstUsd: head.worstUsd, nowMs });
    const shadowAt = shadow([]);
    const backfilled: Held[] = [];
    const ids: string[] = [];
    // An unbounded shadow would let anything through and starve the head: no backfill then.
    if (Number.isFinite(shadowAt)) {
      for (const c of rest) {
        if (free <= 0) break;
        if (c.jobId in view.holders || c.worstSeconds === undefined) continue;
        if (c.notBefore && Date.parse(c.notBefore) > nowMs) continue;
        if (!fitsNow(c) || shadow([...backfilled, asHeld(c)]) > shadowAt) continue;
        take(c);
        backfilled.push(asHeld(c));
        ids.push(c.jobId);
      }
    }
    return { admit, blocked: "budget", head: { jobId: head.jobId, shadowAt }, ...(ids.length ? { backfilled: ids } : {}) };
  }
}

/** The waiting-line row key: higher priority first, then first come, first served. */
export function waitKey(priority: number, createdAt: string, jobId: string): string {
  return `wait-${String(1000 - priority).padStart(4, "0")}-${createdAt}-${jobId}`;
}

/** The priority part of a waiting-line row key (`wait-<1000 − priority>`): the entries of one priority share it. */
export function priorityOf(key: string): string {
  return key.slice(0, "wait-0000".length);
}
