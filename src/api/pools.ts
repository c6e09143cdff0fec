/**
 * GET /api/pools: each configured pool's slots and waiting line, and per budget window
 * (this UTC day and month) what is spent, what running jobs have reserved, and what
 * is left for new admissions; and per placement, the room in use in its subscription and
 * region against its quota, the creates left in ACI's windows, and its cooldown.
 */
import { roundUsd } from "../pricing.js";
import { usage } from "../store/ledgerStore.js";
import type { PoolConfig } from "../config.js";
import type { Deps } from "../scheduler/deps.js";
import { json, type ApiRequest, type ApiResponse } from "./http.js";
import { QueryReader } from "./params.js";

function window(w: { window: string; spentUsd: number; reservedUsd: number }, limitUsd: number | undefined) {
  return {
    window: w.window,
    limitUsd: limitUsd ?? null,
    spentUsd: w.spentUsd,
    reservedUsd: w.reservedUsd,
    // Can go below zero when settled costs overshoot (jobs stopped late); shown as it is.
    remainingUsd: limitUsd === undefined ? null : roundUsd(limitUsd - w.spentUsd - w.reservedUsd),
  };
}

export async function poolStatus(deps: Deps, pool: PoolConfig) {
  const now = deps.clock.now();
  const [snap, waiting, placements] = await Promise.all([
    deps.ledger.snapshot(pool.name, now),
    // Counted up to one past the limit: enough to show a full line, or one over it (queue submissions wait regardless).
    deps.ledger.countWaiting(pool.name, pool.maxWaiting + 1),
    // Per placement: room in use in its subscription and region (all pools), creates left, its breaker.
    Promise.all(pool.placements.map((p) => deps.placements.status(p, now))),
  ]);
  const u = usage(snap);
  return {
    name: pool.name,
    region: pool.region,
    maxConcurrency: pool.maxConcurrency,
    slotsInUse: u.slotsInUse,
    slotsFree: Math.max(0, pool.maxConcurrency - u.slotsInUse),
    waiting,
    maxWaiting: pool.maxWaiting,
    budget: {
      day: window(u.day, pool.budget.dailyUsd),
      month: window(u.month, pool.budget.monthlyUsd),
    },
    placements,
  };
}

export async function listPools(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  new QueryReader(req, []).done();
  const pools = await Promise.all([...deps.config.pools.values()].map((p) => poolStatus(deps, p)));
  return json(200, { pools });
}
