/**
 * The gauges only a look at every job can give — jobs by state, waiting jobs by reason,
 * budget spent against each window's limit — taken by the reconciler, which scans the
 * active jobs on its schedule anyway (scheduler/reconcile.ts). Counting in the scan costs
 * no extra reads; the reasons cost the few reads per pool that `GET /api/jobs` spends
 * (api/waiting.ts).
 */
import type { JobRecord, JobState } from "../model.js";
import type { Deps } from "../scheduler/deps.js";
import { waitingReasons } from "../api/waiting.js";
import type { PoolObservation } from "./telemetry.js";

/** Waiting jobs kept for their reasons, at most, per reconcile run: the gauge is a sample beyond. */
const MAX_WAITING = 5000;

export class JobCensus {
  readonly #states = new Map<string, Partial<Record<JobState, number>>>();
  readonly #waiting: JobRecord[] = [];

  add(job: JobRecord): void {
    const counts = this.#states.get(job.pool) ?? {};
    counts[job.state] = (counts[job.state] ?? 0) + 1;
    this.#states.set(job.pool, counts);
    // Only what waitingReasons reads is kept: a scan may pass thousands of jobs.
    if ((job.state === "Waiting" || job.state === "Launching") && this.#waiting.length < MAX_WAITING) {
      const { id, pool, state, notBefore, waitingFor, array, attempts } = job;
      this.#waiting.push({ id, pool, state, notBefore, waitingFor, array, attempts: attempts.slice(-1) } as JobRecord);
    }
  }

  /** Records the gauges for every configured pool (a pool with no jobs reads 0 in each state). */
  async record(deps: Deps): Promise<void> {
    if (!deps.telemetry) return;
    const now = deps.clock.now();
    const reasons = await waitingReasons(deps, this.#waiting);
    for (const pool of deps.config.pools.values()) {
      const snap = await deps.ledger.snapshot(pool.name, now);
      const jobs = this.#states.get(pool.name) ?? {};
      const waiting: Record<string, number> = {};
      for (const job of this.#waiting) {
        const reason = job.pool === pool.name ? reasons.get(job.id)?.reason : undefined;
        if (reason) waiting[reason] = (waiting[reason] ?? 0) + 1;
      }
      const o: PoolObservation = {
        pool: pool.name,
        jobs: Object.fromEntries((["Waiting", "Admitted", "Launching", "Running", "Finishing"] as const).map((s) => [s, jobs[s] ?? 0])),
        waiting,
        budget: [
          { window: "day", spentUsd: snap.spentDayUsd, limitUsd: pool.budget.dailyUsd },
          { window: "month", spentUsd: snap.spentMonthUsd, limitUsd: pool.budget.monthlyUsd },
        ],
      };
      deps.telemetry.observePool(o);
    }
  }
}
