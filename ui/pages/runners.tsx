/**
 * CI runners: for each runner job Burst launched for a GitHub workflow job, the latency
 * from queued (the job's submission on the `queued` webhook) to launched (its container
 * group's create) to picked up (the `in_progress` naming the runner), and the runners
 * that sat idle or were canceled unused.
 */
import { allJobs, FINAL_STATES, type JobSummary } from "../api.js";
import { ChartView, COLOURS } from "../chart.js";
import { between, seconds, time } from "../format.js";
import { useLive } from "../live.js";
import { Facts, Problem } from "./parts.js";

export function runnerTimes(j: JobSummary) {
  const picked = typeof j.source?.pickedUpAt === "string" ? j.source.pickedUpAt : undefined;
  return { launch: between(j.createdAt, j.launchedAt), pickup: j.launchedAt && picked ? between(j.launchedAt, picked) : undefined, picked };
}

export function runnerStatus(j: JobSummary): string {
  const { picked } = runnerTimes(j);
  if (picked) return "picked up";
  if (j.state === "Canceled") return "canceled unused";
  if (FINAL_STATES.includes(j.state)) return "ended unused";
  return j.state === "Running" ? "idle" : "starting";
}

const median = (xs: number[]) => (xs.length === 0 ? undefined : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

export function RunnersPage() {
  const live = useLive(() => allJobs(new URLSearchParams({ label: "burst/runner-profile" }), 500), [], 3000);
  const jobs = live.data ?? [];
  const times = jobs.map(runnerTimes);
  const statuses = jobs.map(runnerStatus);
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const shown = jobs.slice(0, 50).reverse();
  return (
    <section aria-labelledby="runners-title">
      <h1 id="runners-title">CI runners</h1>
      <Problem live={live} />
      <Facts items={[
        ["Runner jobs", String(jobs.length)],
        ["Median queued → launched", seconds(median(times.flatMap((t) => (t.launch === undefined ? [] : [t.launch]))))],
        ["Median launched → picked up", seconds(median(times.flatMap((t) => (t.pickup === undefined ? [] : [t.pickup]))))],
        ["Idle now", String(count("idle"))],
        ["Canceled unused", String(count("canceled unused"))],
      ]} />
      {jobs.length > 0 && (
        <ChartView label={`Start latency of the latest ${shown.length} runners`} config={{
          type: "bar",
          data: {
            labels: shown.map((j) => String(j.source?.workflowJobName ?? j.name ?? j.id)),
            datasets: [
              { label: "queued → launched (s)", data: shown.map((j) => runnerTimes(j).launch ?? 0), backgroundColor: COLOURS[0] },
              { label: "launched → picked up (s)", data: shown.map((j) => runnerTimes(j).pickup ?? 0), backgroundColor: COLOURS[2] },
            ],
          },
          options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "seconds" } } } },
        }} />
      )}
      <div class="table-wrap">
        <table class="runners">
          <caption>{jobs.length === 0 ? "No runner jobs yet (see docs/github.md)." : "Runner jobs, newest first"}</caption>
          <thead><tr><th scope="col">Workflow job</th><th scope="col">Repository</th><th scope="col">Queued</th><th scope="col">Queued → launched</th><th scope="col">Launched → picked up</th><th scope="col">Status</th><th scope="col">Job</th></tr></thead>
          <tbody>
            {jobs.map((j, i) => (
              <tr data-job-id={j.id}>
                <td>{String(j.source?.workflowJobName ?? j.name ?? "")}</td>
                <td>{String(j.source?.repository ?? j.labels["github/repository"] ?? "")}</td>
                <td>{time(j.createdAt)}</td>
                <td class="num">{seconds(times[i]!.launch)}</td>
                <td class="num">{seconds(times[i]!.pickup)}</td>
                <td data-field="status">{statuses[i]}</td>
                <td><a href={`#/jobs/${j.id}`}>{j.state}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
