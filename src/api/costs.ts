/**
 * GET /api/costs: what jobs cost, from the ledger's cost rows (one per settled
 * attempt), grouped by job, UTC day or pool, with totals and the ledger's own spent
 * totals for the budget windows in range. A row belongs to the budget day it was
 * reserved in, the same day the budget counts it against. Jobs deleted by retention
 * (scheduler/retention.ts) have no cost rows left; what their rows added up to per pool
 * and day (store/retiredCosts.ts) is counted instead, and by job it is one `(deleted)` row
 * per pool.
 */
import { POOL_NAME } from "../jobSpec.js";
import { roundUsd } from "../pricing.js";
import type { CostRow } from "../store/ledgerStore.js";
import type { RetiredSum } from "../store/retiredCosts.js";
import type { Deps } from "../scheduler/deps.js";
import { json, type ApiRequest, type ApiResponse } from "./http.js";
import { QueryReader } from "./params.js";

export const COST_GROUPINGS = ["pool", "day", "job"] as const;
export type CostGrouping = (typeof COST_GROUPINGS)[number];

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const isRealDate = (d: string) => new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;

interface Sum {
  costUsd: number;
  billedSeconds: number;
  jobs: Set<string>;
  /** Deleted jobs, counted from the retired sums. */
  deletedJobs: number;
  attempts: number;
  /** Over the attempts Azure has billed: the bill, and Burst's estimate for the same attempts. */
  billedUsd: number;
  billedEstimateUsd: number;
  billedAttempts: number;
}

const emptySum = (): Sum => ({ costUsd: 0, billedSeconds: 0, jobs: new Set(), deletedJobs: 0, attempts: 0, billedUsd: 0, billedEstimateUsd: 0, billedAttempts: 0 });

function add(s: Sum, r: CostRow): void {
  s.costUsd = roundUsd(s.costUsd + r.costUsd);
  s.billedSeconds += r.billedSeconds;
  s.jobs.add(r.jobId);
  s.attempts++;
  if (r.billedUsd !== undefined) {
    s.billedUsd = roundUsd(s.billedUsd + r.billedUsd);
    s.billedEstimateUsd = roundUsd(s.billedEstimateUsd + r.costUsd);
    s.billedAttempts++;
  }
}

function addRetired(s: Sum, r: RetiredSum): void {
  s.costUsd = roundUsd(s.costUsd + r.costUsd);
  s.billedSeconds += r.billedSeconds;
  s.deletedJobs += r.jobs;
  s.attempts += r.attempts;
  s.billedUsd = roundUsd(s.billedUsd + r.billedUsd);
  s.billedEstimateUsd = roundUsd(s.billedEstimateUsd + r.billedEstimateUsd);
  s.billedAttempts += r.billedAttempts;
}

/** The row name of deleted jobs' costs with by=job. */
export const DELETED_JOBS_ROW = "(deleted)";

/**
 * `costUsd` is Burst's estimate; `billedUsd` what Azure's bill says for the attempts it
 * has reported (`billedAttempts` of `attempts`), and `differenceUsd` the bill less the
 * estimate for those same attempts (null until any is billed).
 */
const shown = (s: Sum) => ({
  costUsd: s.costUsd,
  billedUsd: s.billedAttempts ? s.billedUsd : null,
  differenceUsd: s.billedAttempts ? roundUsd(s.billedUsd - s.billedEstimateUsd) : null,
  billedAttempts: s.billedAttempts,
  billedSeconds: s.billedSeconds,
  jobs: s.jobs.size + s.deletedJobs,
  attempts: s.attempts,
});

export async function costs(deps: Deps, req: ApiRequest): Promise<ApiResponse> {
  const q = new QueryReader(req, ["since", "until", "pool", "by"]);
  const dateRule = "must be a UTC date, YYYY-MM-DD";
  const since = q.string("since", DATE, dateRule);
  const until = q.string("until", DATE, dateRule);
  for (const [name, v] of [["since", since], ["until", until]] as const) {
    if (v && !isRealDate(v)) q.errors.push({ field: name, rule: `${dateRule} (${v} is not a calendar date)` });
  }
  if (since && until && until < since) q.errors.push({ field: "until", rule: "must not be before since" });
  // Any pool that ever had costs, configured or not any more: costs are history.
  const pool = q.string("pool", POOL_NAME, "must be a pool name: 1-32 lowercase letters, digits or dashes");
  const by = q.oneOf("by", COST_GROUPINGS, "pool");
  q.done();

  const inRange = (day: string) => (!since || day >= since) && (!until || day <= until);
  const monthInRange = (month: string) => (!since || month >= since.slice(0, 7)) && (!until || month <= until.slice(0, 7));
  const groups = new Map<string, { pool?: string; sum: Sum }>();
  const total = emptySum();
  const windows: { pool: string; window: string; spentUsd: number; jobs: number }[] = [];
  for await (const r of deps.ledger.costRows(pool)) {
    if (!inRange(r.day)) continue;
    const key = by === "pool" ? r.pool : by === "day" ? r.day : r.jobId;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { pool: by === "job" ? r.pool : undefined, sum: emptySum() }));
    add(g.sum, r);
    add(total, r);
  }
  for await (const r of deps.ledger.retired(pool)) {
    if (!inRange(r.day)) continue;
    const key = by === "pool" ? r.pool : by === "day" ? r.day : `${DELETED_JOBS_ROW}\u0000${r.pool}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { pool: by === "job" ? r.pool : undefined, sum: emptySum() }));
    addRetired(g.sum, r);
    addRetired(total, r);
  }
  for await (const t of deps.ledger.totals(pool)) {
    const [kind, ...rest] = t.window.split("-");
    const w = rest.join("-");
    if ((kind === "day" && inRange(w)) || (kind === "month" && monthInRange(w))) windows.push(t);
  }
  // Days in order; pools and jobs most expensive first.
  const entries = [...groups.entries()].sort(([ka, a], [kb, b]) => (by === "day" ? ka.localeCompare(kb) : b.sum.costUsd - a.sum.costUsd || ka.localeCompare(kb)));
  const rows = entries.map(([key, g]) => ({ [by]: key.split("\u0000")[0], ...(g.pool ? { pool: g.pool } : {}), ...shown(g.sum) }));
  windows.sort((a, b) => a.pool.localeCompare(b.pool) || a.window.localeCompare(b.window));
  return json(200, { by, since: since ?? null, until: until ?? null, pool: pool ?? null, rows, total: shown(total), windows });
}
