/**
 * Pools: slots in use over time, waiting jobs by reason, and each budget window's spend
 * with a burn-down and a straight-line projection to the window's end.
 */
import { allJobs, getJson, type BudgetWindow, type CostRow, type JobSummary, type Pool } from "../api.js";
import { ChartView, COLOURS } from "../chart.js";
import { usd } from "../format.js";
import { useLive } from "../live.js";
import { Facts, Problem } from "./parts.js";

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** A linear x axis of epoch milliseconds, labelled as UTC times. */
const timeAxis = (min: number, max: number, fmt: (t: number) => string) => ({ type: "linear" as const, min, max, ticks: { callback: (v: number | string) => fmt(Number(v)), maxTicksLimit: 8 } });

/**
 * Slots in use, counted from the pool's recent jobs: each holds a slot from its first
 * launch until it finishes (or now). A step at every launch and finish.
 */
export function slotSeries(jobs: JobSummary[], now: number): { t: number; inUse: number }[] {
  const steps: [number, number][] = [];
  for (const j of jobs) {
    if (!j.launchedAt) continue;
    steps.push([Date.parse(j.launchedAt), +1]);
    if (j.finishedAt) steps.push([Date.parse(j.finishedAt), -1]);
  }
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inUse = 0;
  const out = steps.map(([t, d]) => ({ t, inUse: (inUse += d) }));
  out.push({ t: now, inUse });
  return out;
}

/** Where the window ends (UTC), from its name: `2026-12-02` (a day) or `2026-12` (a month). */
function windowBounds(name: string): [number, number] {
  if (name.length === 10) {
    const start = Date.parse(`${name}T00:00:00Z`);
    return [start, start + 86_400_000];
  }
  const start = new Date(`${name}-01T00:00:00Z`);
  const end = new Date(start);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return [start.getTime(), end.getTime()];
}

/** Spend so far extended at the window's average rate so far to its end. */
export function projection(w: BudgetWindow, now: number): number {
  const [start, end] = windowBounds(w.window);
  const elapsed = Math.max(1, now - start);
  return (w.spentUsd / elapsed) * (end - start);
}

function Budget(props: { pool: Pool; kind: "day" | "month"; points: { t: number; spent: number }[] }) {
  const w = props.pool.budget[props.kind];
  const now = Date.now();
  const [start, end] = windowBounds(w.window);
  const projected = projection(w, now);
  const fmt = (t: number) => (props.kind === "day" ? hhmmss(t).slice(0, 5) : new Date(t).toISOString().slice(5, 10));
  const pts = [{ t: start, spent: 0 }, ...props.points.filter((p) => p.t >= start && p.t <= now), { t: now, spent: w.spentUsd }];
  const limit = w.limitUsd;
  const value = (spent: number) => (limit === null ? spent : limit - spent);
  const config = {
    type: "line" as const,
    data: {
      datasets: [
        { label: limit === null ? "spent" : "remaining", data: pts.map((p) => ({ x: p.t, y: value(p.spent) })), borderColor: COLOURS[0], stepped: true },
        { label: "projection", data: [{ x: now, y: value(w.spentUsd) }, { x: end, y: value(projected) }], borderColor: COLOURS[1], borderDash: [6, 4] },
      ],
    },
    options: { scales: { x: timeAxis(start, end, fmt), y: { title: { display: true, text: "USD" } } } },
  };
  return (
    <div class="card budget" data-window={props.kind}>
      <h3>{props.kind === "day" ? "Today" : "This month"} ({w.window})</h3>
      <Facts items={[
        ["Limit", w.limitUsd === null ? "none" : usd(w.limitUsd)],
        ["Spent", usd(w.spentUsd)],
        ["Reserved by running jobs", usd(w.reservedUsd)],
        ["Remaining", usd(w.remainingUsd)],
        ["Projected by the window's end", usd(projected)],
      ]} />
      <ChartView config={config} label={`Burn-down of pool ${props.pool.name}'s ${props.kind} budget: ${usd(w.spentUsd)} spent, ${usd(projected)} projected`} height={200} />
    </div>
  );
}

function PoolCard(props: { pool: Pool; jobs: JobSummary[]; days: CostRow[] }) {
  const { pool, jobs } = props;
  const now = Date.now();
  const series = slotSeries(jobs, now).filter((p) => p.t >= now - 6 * 3600_000);
  const waiting: Record<string, number> = {};
  for (const j of jobs) if (j.waiting) waiting[j.waiting.reason] = (waiting[j.waiting.reason] ?? 0) + 1;
  const todays = jobs.filter((j) => j.finishedAt && j.finishedAt.slice(0, 10) === pool.budget.day.window).sort((a, b) => a.finishedAt!.localeCompare(b.finishedAt!));
  let cum = 0;
  const dayPoints = todays.map((j) => ({ t: Date.parse(j.finishedAt!), spent: (cum += j.costUsd) }));
  cum = 0;
  const monthPoints = props.days.map((d) => ({ t: Date.parse(`${d.day}T23:59:59Z`), spent: (cum += d.costUsd) }));
  return (
    <article class="card pool" aria-labelledby={`pool-${pool.name}`} data-pool={pool.name}>
      <h2 id={`pool-${pool.name}`}>{pool.name} <span class="sub">{pool.region}</span></h2>
      <Facts items={[["Slots in use", `${pool.slotsInUse} of ${pool.maxConcurrency}`], ["Waiting", `${pool.waiting} (line holds ${pool.maxWaiting})`]]} />
      <h3>Slots in use over time</h3>
      <ChartView label={`Slots in use in pool ${pool.name}, last 6 hours: ${pool.slotsInUse} now`} height={180} config={{
        type: "line",
        data: { datasets: [{ label: "slots in use", data: series.map((p) => ({ x: p.t, y: p.inUse })), stepped: true, borderColor: COLOURS[0], backgroundColor: "rgba(0,114,178,0.15)", fill: true }] },
        options: { scales: { x: timeAxis(series[0]?.t ?? now, now, hhmmss), y: { min: 0, suggestedMax: pool.maxConcurrency, ticks: { precision: 0 } } } },
      }} />
      <h3>Waiting jobs by reason</h3>
      {Object.keys(waiting).length === 0 ? <p>No job is waiting.</p> : (
        <ChartView label={`Waiting jobs by reason: ${Object.entries(waiting).map(([r, n]) => `${n} ${r}`).join(", ")}`} height={160} config={{
          type: "bar",
          data: { labels: Object.keys(waiting), datasets: [{ label: "waiting jobs", data: Object.values(waiting), backgroundColor: COLOURS[1] }] },
          options: { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } },
        }} />
      )}
      <div class="budgets">
        <Budget pool={pool} kind="day" points={dayPoints} />
        <Budget pool={pool} kind="month" points={monthPoints} />
      </div>
    </article>
  );
}

export function PoolsPage() {
  const live = useLive(async () => {
    const { pools } = await getJson<{ pools: Pool[] }>("/pools");
    return Promise.all(pools.map(async (pool) => {
      const month = pool.budget.month.window;
      const [jobs, costs] = await Promise.all([
        allJobs(new URLSearchParams({ pool: pool.name }), 500),
        getJson<{ rows: CostRow[] }>(`/costs?by=day&pool=${pool.name}&since=${month}-01`),
      ]);
      return { pool, jobs, days: costs.rows };
    }));
  }, [], 5000);
  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Pools</h1>
      <Problem live={live} />
      {!live.data && !live.error && <p>Loading…</p>}
      {live.data?.map((p) => <PoolCard key={p.pool.name} {...p} />)}
    </section>
  );
}
