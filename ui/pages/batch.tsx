/** Arrays, dependencies and schedules: progress per array, jobs waiting on others, and each schedule's next runs. */
import { allJobs, getJson, type Schedule } from "../api.js";
import { time } from "../format.js";
import { useLive } from "../live.js";
import { Problem } from "./parts.js";

async function load() {
  const [jobs, { schedules }] = await Promise.all([allJobs(new URLSearchParams(), 1000), getJson<{ schedules: Schedule[] }>("/schedules")]);
  const withRuns = await Promise.all(schedules.map(async (s) => ({ ...s, nextRuns: s.suspend ? [] : (await getJson<{ nextRuns: string[] }>(`/schedules/${s.name}`)).nextRuns })));
  return { arrays: jobs.filter((j) => j.array), dependent: jobs.filter((j) => j.waiting?.reason === "dependencies"), schedules: withRuns };
}

export function BatchPage() {
  const live = useLive(load, [], 3000);
  const d = live.data;
  return (
    <section aria-labelledby="batch-title">
      <h1 id="batch-title">Arrays, dependencies and schedules</h1>
      <Problem live={live} />
      {!d ? !live.error && <p>Loading…</p> : (
        <>
          <h2>Arrays</h2>
          {d.arrays.length === 0 ? <p>No array jobs.</p> : (
            <ul class="arrays">
              {d.arrays.map((j) => {
                const a = j.array!;
                const ended = (a.counts.Succeeded ?? 0) + (a.counts.Failed ?? 0) + (a.counts.TimedOut ?? 0) + (a.counts.Canceled ?? 0);
                return (
                  <li data-array={j.id}>
                    <a href={`#/jobs/${j.id}`}>{j.name ?? j.id}</a> <span class={`state state-${j.state}`}>{j.state}</span>
                    <label class="block" for={`progress-${j.id}`}>{ended} of {a.count} ended: {Object.entries(a.counts).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(", ")}{a.failedIndexes.length ? `; failed indexes ${a.failedIndexes.join(", ")}` : ""}</label>
                    <progress id={`progress-${j.id}`} max={a.count} value={ended} />
                  </li>
                );
              })}
            </ul>
          )}
          <h2>Waiting on dependencies</h2>
          {d.dependent.length === 0 ? <p>No job waits on another.</p> : (
            <ul>{d.dependent.map((j) => <li><a href={`#/jobs/${j.id}`}>{j.name ?? j.id}</a>: {j.waiting!.text}</li>)}</ul>
          )}
          <h2>Schedules</h2>
          <div class="table-wrap">
            <table class="schedules">
              <caption>{d.schedules.length} schedules</caption>
              <thead><tr><th scope="col">Schedule</th><th scope="col">Cron</th><th scope="col">Next runs</th><th scope="col">Last run</th></tr></thead>
              <tbody>
                {d.schedules.map((s) => (
                  <tr data-schedule={s.name}>
                    <td>{s.name}{s.suspend ? " (suspended)" : ""}</td>
                    <td><code>{s.cron}</code> {s.timeZone}</td>
                    <td>{s.nextRuns.length ? <ul class="plain">{s.nextRuns.map((r) => <li>{time(r)}</li>)}</ul> : "—"}</td>
                    <td>{s.lastRun ? <>{time(s.lastRun.tick)} {s.lastRun.outcome}{s.lastRun.jobId && <> (<a href={`#/jobs/${s.lastRun.jobId}`}>{s.lastRun.jobId}</a>)</>}</> : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
