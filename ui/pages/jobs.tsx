/** Jobs: the live list, newest first, filtered by state, pool, label and waiting reason. */
import { useState } from "preact/hooks";
import { getJson, JOB_STATES, WAITING_REASONS, type JobSummary, type Pool } from "../api.js";
import { between, labels, placement, seconds, time, usd } from "../format.js";
import { useLive } from "../live.js";
import { Problem, Select } from "./parts.js";

export function JobsPage() {
  const [state, setState] = useState("");
  const [pool, setPool] = useState("");
  const [label, setLabel] = useState("");
  // Typed here; applied on Enter or on leaving the field, so a half-typed label is not asked for.
  const [labelDraft, setLabelDraft] = useState("");
  const [reason, setReason] = useState("");
  const pools = useLive(() => getJson<{ pools: Pool[] }>("/pools"), [], 0);
  const list = useLive(async () => {
    const q = new URLSearchParams({ limit: "200" });
    if (state) q.set("state", state);
    if (pool) q.set("pool", pool);
    if (label.trim()) q.set("label", label.trim());
    return (await getJson<{ jobs: JobSummary[] }>(`/jobs?${q}`)).jobs;
  }, [state, pool, label]);
  const jobs = (list.data ?? []).filter((j) => !reason || j.waiting?.reason === reason);
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setLabel(labelDraft); }}>
        <Select id="filter-state" label="State" value={state} onChange={setState} options={JOB_STATES} />
        <Select id="filter-pool" label="Pool" value={pool} onChange={setPool} options={(pools.data?.pools ?? []).map((p) => p.name)} />
        <Select id="filter-reason" label="Waiting reason" value={reason} onChange={setReason} options={WAITING_REASONS} />
        <div class="field">
          <label for="filter-label">Label (key or key=value)</label>
          <input id="filter-label" value={labelDraft} onInput={(e) => setLabelDraft((e.target as HTMLInputElement).value)} onChange={() => setLabel(labelDraft)} />
        </div>
        <button type="submit" class="apply">Apply</button>
      </form>
      <Problem live={list} />
      <div class="table-wrap">
        <table class="jobs">
          <caption>{list.data ? `${jobs.length} jobs, newest first; refreshed every 2 s` : "Loading…"}</caption>
          <thead>
            <tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Attempts</th><th scope="col">Duration</th><th scope="col">Cost so far</th><th scope="col">Pool</th><th scope="col">Placement</th><th scope="col">Created</th></tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-job-id={j.id}>
                <td><a href={`#/jobs/${j.id}`}>{j.name ?? j.id}</a>{j.name && <div class="sub">{j.id}</div>}{Object.keys(j.labels).length > 0 && <div class="sub">{labels(j.labels)}</div>}</td>
                <td><span class={`state state-${j.state}`} data-field="state">{j.state}</span></td>
                <td class="reason">{j.waiting ? <span title={j.waiting.text}>waiting: {j.waiting.reason}</span> : j.reason ?? ""}</td>
                <td class="num">{j.attemptCount}</td>
                <td class="num">{seconds(between(j.startedAt, j.finishedAt))}</td>
                <td class="num" data-field="cost">{usd(j.costUsd)}{j.costRunning ? " …" : ""}</td>
                <td>{j.pool}</td>
                <td>{placement(j.placement)}</td>
                <td>{time(j.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
