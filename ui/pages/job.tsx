/** A job: its facts, its attempts on a timeline, cost estimate against the bill, and its log with live follow. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { call, FINAL_STATES, getJson, type Attempt, type Job } from "../api.js";
import { ChartView, COLOURS } from "../chart.js";
import { between, labels, placement, seconds, time, usd } from "../format.js";
import { useLive } from "../live.js";
import { Facts, Problem } from "./parts.js";

const STAGES = ["waiting", "admitted", "pulling", "running", "finishing"] as const;

/** Each stage of an attempt as [from, to] seconds since the job was created, from the times its record holds. */
export function stages(job: Job, a: Attempt, previousEnd: string | undefined): Record<(typeof STAGES)[number], [number, number] | null> {
  const t0 = Date.parse(job.createdAt);
  const at = (iso?: string) => (iso ? (Date.parse(iso) - t0) / 1000 : undefined);
  const now = (Date.now() - t0) / 1000;
  const span = (from?: number, to?: number): [number, number] | null => (from === undefined ? null : [from, to ?? now]);
  const running = !FINAL_STATES.includes(job.state);
  const end = (x?: number) => x ?? (running ? undefined : at(job.finishedAt) ?? now);
  const launched = at(a.launchedAt);
  const pull = at(a.pullStartedAt);
  const started = at(a.startedAt);
  const finished = at(a.finishedAt);
  return {
    waiting: span(at(previousEnd ?? job.createdAt), end(launched)),
    admitted: launched === undefined ? null : span(launched, end(pull ?? started)),
    pulling: pull === undefined ? null : span(pull, end(started)),
    running: started === undefined ? null : span(started, end(finished)),
    finishing: finished === undefined ? null : span(finished, end(at(a.stoppedAt))),
  };
}

function Timeline(props: { job: Job }) {
  const { job } = props;
  const rows = job.attempts.map((a, i) => stages(job, a, i === 0 ? undefined : job.attempts[i - 1]!.stoppedAt ?? job.attempts[i - 1]!.finishedAt));
  const config = useMemo(() => ({
    type: "bar" as const,
    data: {
      labels: job.attempts.map((a) => `attempt ${a.n}`),
      datasets: STAGES.map((s, i) => ({ label: s, data: rows.map((r) => r[s]) as unknown as number[], backgroundColor: COLOURS[i], grouped: false })),
    },
    options: { indexAxis: "y" as const, scales: { x: { title: { display: true, text: "seconds since submitted" } } } },
  }), [JSON.stringify(rows)]);
  if (job.attempts.length === 0) return <p>No attempt yet{job.waiting ? `: ${job.waiting.text}` : ""}.</p>;
  return (
    <>
      <ChartView config={config} label={`Timeline of ${job.attempts.length} attempts, by stage`} height={80 + 40 * job.attempts.length} />
      <div class="table-wrap">
        <table class="attempts">
          <caption>Attempts</caption>
          <thead><tr><th scope="col">Attempt</th><th scope="col">Launched</th><th scope="col">Pull started</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Exit code</th><th scope="col">Outcome</th><th scope="col">Estimate</th><th scope="col">Bill</th><th scope="col">Placement</th></tr></thead>
          <tbody>
            {job.attempts.map((a) => (
              <tr><td>{a.n}</td><td>{time(a.launchedAt)}</td><td>{time(a.pullStartedAt)}</td><td>{time(a.startedAt)}</td><td>{time(a.finishedAt)}</td><td class="num">{a.exitCode ?? "—"}</td><td>{a.outcome ?? ""}{a.reason ? `: ${a.reason}` : ""}</td><td class="num">{usd(a.costUsd)}</td><td class="num">{usd(a.billedUsd)}{a.billedUsd !== undefined && !a.billFinal ? " (not final)" : ""}</td><td>{placement(a.placement)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The log, read with the API's long poll (GET …/logs?follow=true&offset=N) until it is complete. */
function Log(props: { id: string }) {
  const [text, setText] = useState("");
  const [follow, setFollow] = useState(true);
  const [status, setStatus] = useState("reading…");
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let stopped = false;
    let offset = "0";
    const controller = new AbortController();
    setText("");
    (async () => {
      for (;;) {
        const res = await call(`/jobs/${encodeURIComponent(props.id)}/logs?follow=${follow}&offset=${offset}&wait=10`, { signal: controller.signal });
        if (!res.ok) { setStatus(`log: HTTP ${res.status}`); return; }
        const chunk = await res.text();
        if (stopped) return;
        if (chunk) setText((t) => t + chunk);
        offset = res.headers.get("x-burst-log-offset") ?? offset;
        const complete = res.headers.get("x-burst-log-complete") === "true";
        setStatus(complete ? "complete" : follow ? "following" : "paused");
        if (complete || !follow) return;
      }
    })().catch((err) => { if (!stopped) setStatus(`log: ${(err as Error).message}`); });
    return () => { stopped = true; controller.abort(); };
  }, [props.id, follow]);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Log <span class="sub" data-log-status>({status})</span></h2>
      <label class="inline"><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow live</label>
      <pre ref={pre} class="log" tabIndex={0} aria-label="Job log">{text}</pre>
    </section>
  );
}

export function JobPage(props: { id: string }) {
  const live = useLive(() => getJson<Job>(`/jobs/${encodeURIComponent(props.id)}`), [props.id]);
  const [canceling, setCanceling] = useState("");
  const job = live.data;
  if (!job) return <><h1>Job {props.id}</h1><Problem live={live} />{!live.error && <p>Loading…</p>}</>;
  const ended = FINAL_STATES.includes(job.state);
  const env = job.spec?.env ?? {};
  return (
    <section aria-labelledby="job-title">
      <p><a href="#/jobs">← Jobs</a></p>
      <h1 id="job-title">{job.name ?? job.id}</h1>
      <Problem live={live} />
      <Facts items={[
        ["Id", job.id],
        ["State", <span class={`state state-${job.state}`} data-field="state">{job.state}{job.canceling ? " (canceling)" : ""}</span>],
        ["Reason", job.waiting ? `waiting (${job.waiting.reason}): ${job.waiting.text}` : job.reason],
        ["Pool", job.pool],
        ["Placement", placement(job.placement ?? job.attempts.at(-1)?.placement)],
        ["Image", job.spec?.image],
        ["Command", job.spec?.command?.join(" ")],
        ["Labels", labels(job.labels)],
        ["Exit code", job.exitCode === undefined ? undefined : String(job.exitCode)],
        ["Duration", seconds(between(job.startedAt, job.finishedAt))],
        ["Cost (Burst's estimate)", `${usd(job.costUsd)}${job.costRunning ? " so far" : ""}`],
        ["Cost (Azure's bill)", job.billedUsd === undefined ? "not billed yet" : usd(job.billedUsd)],
        ["Submitted", time(job.createdAt)],
        ["Array", job.array ? `${job.array.count} children: ${Object.entries(job.array.counts).map(([s, n]) => `${n} ${s}`).join(", ")}` : undefined],
        ["Parent", job.parent ? <a href={`#/jobs/${job.parent.id}`}>{job.parent.id} (index {job.parent.index})</a> : undefined],
      ]} />
      {!ended && (
        <p>
          <button type="button" class="danger" disabled={Boolean(canceling) || job.canceling} onClick={async () => {
            setCanceling("asked");
            const res = await call(`/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" });
            setCanceling(res.ok ? "asked" : `cancel failed: HTTP ${res.status}`);
          }}>Cancel job</button>
          {canceling && canceling !== "asked" && <span role="alert" class="error">{canceling}</span>}
        </p>
      )}
      {(Object.keys(env).length > 0 || job.spec?.secureEnvNames?.length) && (
        <>
          <h2>Environment</h2>
          <Facts items={[
            ...Object.entries(env).map(([k, v]) => [k, v] as [string, unknown]),
            ...(job.spec?.secureEnvNames ?? []).map((k) => [k, "(secure: never shown)"] as [string, unknown]),
          ]} />
        </>
      )}
      <h2>Attempts</h2>
      <Timeline job={job} />
      <Log id={job.id} />
    </section>
  );
}
