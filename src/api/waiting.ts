/**
 * Why a job is not running yet, for people and for programs: a machine-readable reason
 * and a sentence. It is worked out when asked, from the pool's ledger and the head of its
 * waiting line (a few reads per pool, not a write per job per change):
 *
 * - `retry-backoff`: a retry waits until `until`;
 * - `create-throttled`: ARM throttled the container group's create; it is sent again at `until`;
 * - `slot`: every slot of the pool is in use;
 * - `budget`: a budget window cannot hold the head of the line's worst case (the head
 *   blocks the line, so small jobs cannot starve a large one);
 * - `admitting`: a slot and the budget are free; the pump is admitting it;
 * - `dependencies`: some of its dependsOn have not ended as it needs (it is not in the line yet).
 */
import { decideAdmission, reservedIn, windowsOf } from "../admission.js";
import type { JobRecord } from "../model.js";
import type { Deps } from "../scheduler/deps.js";
import { roundUsd } from "../pricing.js";

export type WaitingReason = "slot" | "budget" | "retry-backoff" | "create-throttled" | "capacity" | "admitting" | "dependencies";

export interface Waiting {
  reason: WaitingReason;
  text: string;
  until?: string;
}

interface PoolView {
  inUse: number;
  max: number;
  blocked?: "slots" | "budget";
  head?: { jobId: string; worstUsd: number };
  budgetText?: string;
}

async function poolView(deps: Deps, name: string, now: Date): Promise<PoolView | undefined> {
  const pool = deps.config.pools.get(name);
  if (!pool) return undefined;
  const [snap, line] = await Promise.all([deps.ledger.snapshot(name, now), deps.ledger.waiting(name, 17)]);
  const due = line.filter((e) => !e.notBefore || Date.parse(e.notBefore) <= now.getTime());
  const decision = decideAdmission(snap, pool, due, now);
  const view: PoolView = { inUse: Object.keys(snap.holders).length, max: pool.maxConcurrency, blocked: decision.blocked, head: due[decision.admit.length] };
  if (decision.blocked === "budget" && view.head) {
    const { day, month } = windowsOf(now);
    const left = (limit: number | undefined, spent: number, w: { day?: string; month?: string }) =>
      limit === undefined ? undefined : roundUsd(limit - spent - reservedIn(snap.holders, w));
    const dayLeft = left(pool.budget.dailyUsd, snap.spentDayUsd, { day });
    const monthLeft = left(pool.budget.monthlyUsd, snap.spentMonthUsd, { month });
    const which = dayLeft !== undefined && view.head.worstUsd > dayLeft ? `today (${day}) has $${dayLeft} left of $${pool.budget.dailyUsd}` : `this month (${month}) has $${monthLeft} left of $${pool.budget.monthlyUsd}`;
    view.budgetText = `its worst case needs $${view.head.worstUsd}; ${which}`;
  }
  return view;
}

/** The waiting reason of each job given that is not running yet, by job id. */
export async function waitingReasons(deps: Deps, jobs: JobRecord[]): Promise<Map<string, Waiting>> {
  const now = deps.clock.now();
  const out = new Map<string, Waiting>();
  const pools = new Map<string, Promise<PoolView | undefined>>();
  for (const job of jobs) {
    const deferred = job.state === "Launching" ? job.attempts.at(-1)?.deferredUntil : undefined;
    if (deferred && Date.parse(deferred) > now.getTime() && !job.attempts.at(-1)!.placement) {
      out.set(job.id, { reason: "capacity", text: `${job.reason ?? "no placement has room"}; it looks again at ${deferred}`, until: deferred });
      continue;
    }
    if (deferred && Date.parse(deferred) > now.getTime()) {
      out.set(job.id, { reason: "create-throttled", text: `ARM throttled the container group's create; it is sent again at ${deferred}`, until: deferred });
      continue;
    }
    if (job.state === "Waiting" && job.waitingFor?.length) {
      out.set(job.id, { reason: "dependencies", text: `waiting for ${job.waitingFor.length === 1 ? "its dependency" : "its dependencies"} ${job.waitingFor.join(", ")} to end as it needs` });
      continue;
    }
    if (job.state !== "Waiting" || job.array) continue;
    if (job.notBefore && Date.parse(job.notBefore) > now.getTime()) {
      out.set(job.id, { reason: "retry-backoff", text: `the next attempt waits until ${job.notBefore} (${Math.ceil((Date.parse(job.notBefore) - now.getTime()) / 1000)} s)`, until: job.notBefore });
      continue;
    }
    if (!pools.has(job.pool)) pools.set(job.pool, poolView(deps, job.pool, now));
    const view = await pools.get(job.pool)!;
    if (!view) continue;
    if (view.inUse >= view.max || view.blocked === "slots") out.set(job.id, { reason: "slot", text: `all ${view.max} slots of pool ${job.pool} are in use (${view.inUse} of ${view.max})` });
    else if (view.blocked === "budget" && view.head) {
      out.set(job.id, view.head.jobId === job.id
        ? { reason: "budget", text: `waiting for budget: ${view.budgetText}` }
        : { reason: "budget", text: `behind job ${view.head.jobId}, first in line, which waits for budget (${view.budgetText})` });
    } else out.set(job.id, { reason: "admitting", text: `pool ${job.pool} has a free slot and budget; the job is being admitted` });
  }
  return out;
}
