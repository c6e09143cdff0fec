/**
 * Admission arithmetic, pure: who may take a slot now. A job is admitted only if the
 * pool has a free slot and its worst-case cost fits what is left of every budget
 * window (spent + reserved + worst ≤ limit). The waiting line is served in priority-
 * then-FIFO order, and its head blocks the rest when the budget is what stops it, so
 * small jobs cannot starve a big one.
 */

export interface Holder {
  attempt: number;
  reservedUsd: number;
  day: string;
  month: string;
  since: string;
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
}

export function windowsOf(now: Date): { day: string; month: string } {
  const iso = now.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

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

export function decideAdmission(
  view: LedgerView,
  pool: { maxConcurrency: number; budget: Budget },
  candidates: Candidate[],
  now: Date,
): { admit: Candidate[]; blocked?: "slots" | "budget" } {
  const { day, month } = windowsOf(now);
  let free = pool.maxConcurrency - Object.keys(view.holders).length;
  let dayUsed = view.spentDayUsd + reservedIn(view.holders, { day });
  let monthUsed = view.spentMonthUsd + reservedIn(view.holders, { month });
  const admit: Candidate[] = [];
  for (const c of candidates) {
    if (c.jobId in view.holders) continue;
    if (c.notBefore && Date.parse(c.notBefore) > now.getTime()) continue;
    if (free <= 0) return { admit, blocked: "slots" };
    const fitsDay = pool.budget.dailyUsd === undefined || dayUsed + c.worstUsd <= pool.budget.dailyUsd + 1e-12;
    const fitsMonth = pool.budget.monthlyUsd === undefined || monthUsed + c.worstUsd <= pool.budget.monthlyUsd + 1e-12;
    if (!fitsDay || !fitsMonth) return { admit, blocked: "budget" };
    admit.push(c);
    free--;
    dayUsed += c.worstUsd;
    monthUsed += c.worstUsd;
  }
  return { admit };
}

/** The waiting-line row key: higher priority first, then first come, first served. */
export function waitKey(priority: number, createdAt: string, jobId: string): string {
  return `wait-${String(1000 - priority).padStart(4, "0")}-${createdAt}-${jobId}`;
}
