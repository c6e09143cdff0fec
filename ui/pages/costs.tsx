/** Costs: by day and pool (stacked), the most expensive jobs and labels, and a CSV export. */
import { allJobs, getJson, type CostRow, type Pool } from "../api.js";
import { ChartView, COLOURS } from "../chart.js";
import { usd } from "../format.js";
import { useLive } from "../live.js";
import { Problem } from "./parts.js";

const DAYS = 30;

interface Costs {
  days: string[];
  byPool: Map<string, Map<string, CostRow>>;
  topJobs: CostRow[];
  topLabels: [string, number][];
}

async function load(): Promise<Costs> {
  const since = new Date(Date.now() - (DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const { pools } = await getJson<{ pools: Pool[] }>("/pools");
  const [perPool, jobs, listed] = await Promise.all([
    Promise.all(pools.map(async (p) => [p.name, (await getJson<{ rows: CostRow[] }>(`/costs?by=day&pool=${p.name}&since=${since}`)).rows] as const)),
    getJson<{ rows: CostRow[] }>(`/costs?by=job&since=${since}`),
    allJobs(new URLSearchParams(), 1000),
  ]);
  const byPool = new Map(perPool.filter(([, rows]) => rows.length > 0).map(([name, rows]) => [name, new Map(rows.map((r) => [r.day!, r]))]));
  const days = Array.from({ length: DAYS }, (_, i) => new Date(Date.parse(`${since}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
  const perLabel = new Map<string, number>();
  for (const j of listed) for (const [k, v] of Object.entries(j.labels)) perLabel.set(`${k}=${v}`, (perLabel.get(`${k}=${v}`) ?? 0) + j.costUsd);
  const topLabels = [...perLabel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  return { days, byPool, topJobs: jobs.rows.slice(0, 10), topLabels };
}

/** day,pool,costUsd,billedUsd,jobs,attempts,billedSeconds — one line per day and pool. */
export function costsCsv(c: Costs): string {
  const lines = ["day,pool,costUsd,billedUsd,jobs,attempts,billedSeconds"];
  for (const day of c.days) {
    for (const [pool, rows] of c.byPool) {
      const r = rows.get(day);
      if (r) lines.push([day, pool, r.costUsd, r.billedUsd ?? "", r.jobs, r.attempts, r.billedSeconds].join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function CostsPage() {
  const live = useLive(load, [], 10_000);
  const c = live.data;
  return (
    <section aria-labelledby="costs-title">
      <h1 id="costs-title">Costs</h1>
      <Problem live={live} />
      {!c ? !live.error && <p>Loading…</p> : (
        <>
          <h2>By day and pool, last {DAYS} days</h2>
          <ChartView label={`Cost per day, stacked by pool, over the last ${DAYS} days`} config={{
            type: "bar",
            data: {
              labels: c.days,
              datasets: [...c.byPool].map(([pool, rows], i) => ({ label: pool, data: c.days.map((d) => rows.get(d)?.costUsd ?? 0), backgroundColor: COLOURS[i % COLOURS.length], maxBarThickness: 48 })),
            },
            options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "USD (Burst's estimate)" } } } },
          }} />
          <p>
            <a class="button" download="burst-costs.csv" href={URL.createObjectURL(new Blob([costsCsv(c)], { type: "text/csv" }))}>Export CSV (day, pool)</a>
          </p>
          <div class="two">
            <div class="table-wrap">
              <table class="top-jobs">
                <caption>Most expensive jobs</caption>
                <thead><tr><th scope="col">Job</th><th scope="col">Pool</th><th scope="col">Estimate</th><th scope="col">Bill</th></tr></thead>
                <tbody>{c.topJobs.map((r) => <tr><td>{r.job === "(deleted)" ? r.job : <a href={`#/jobs/${r.job}`}>{r.job}</a>}</td><td>{r.pool}</td><td class="num">{usd(r.costUsd)}</td><td class="num">{usd(r.billedUsd)}</td></tr>)}</tbody>
              </table>
            </div>
            <div class="table-wrap">
              <table class="top-labels">
                <caption>Most expensive labels (the latest 1,000 jobs)</caption>
                <thead><tr><th scope="col">Label</th><th scope="col">Estimate</th></tr></thead>
                <tbody>{c.topLabels.map(([l, v]) => <tr><td>{l}</td><td class="num">{usd(v)}</td></tr>)}</tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
