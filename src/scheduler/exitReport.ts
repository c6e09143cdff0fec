/**
 * The exit-report step: a container said it exited (notifyExit, see ../exitReport.ts).
 * The report is a hint, never a fact. It is acted on once per attempt, only when its
 * token is the attempt's, and only by polling ARM now instead of later: the poll ends the
 * attempt if ARM shows it ended, and otherwise keeps watching (a report that came ahead
 * of ARM's view is followed by quick re-polls, see pollDecision.nextPoll). A late,
 * repeated, forged or other-attempt report is dropped, and costs at most one ARM read.
 */
import { timingSafeEqual } from "node:crypto";
import type { ExitReport } from "../exitReport.js";
import { changeJob } from "../jobState.js";
import type { Deps } from "./deps.js";
import type { Next } from "./flow.js";
import { pollJob } from "./monitor.js";

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function takeExitReport(deps: Deps, report: ExitReport): Promise<Next[]> {
  const signer = deps.exitReports;
  let dropped = "there is no such job";
  const now = deps.clock.now().toISOString();
  // All checks inside the one change, so a report costs one read and one write before its ARM read.
  const r = await changeJob(deps, report.jobId, (job) => {
    const a = job.attempts.at(-1);
    if (a?.n !== report.attempt) return void (dropped = "not the job's current attempt");
    if (!signer || !same(report.token, signer.token(job.id, a.n, a.launchedAt ?? "")))
      return void (dropped = "its token is not the attempt's");
    if (a.exitReport || !(job.state === "Launching" || job.state === "Running"))
      return void (dropped = "the attempt has ended, or was reported already");
    return { ...job, attempts: [...job.attempts.slice(0, -1), { ...a, exitReport: { at: now, exitCode: report.exitCode } }] };
  });
  if (!r?.changed) {
    deps.log.info(`job ${report.jobId}: exit report for attempt ${report.attempt} dropped (${dropped})`);
    return [];
  }
  // Still Launching: the launch step's first poll comes at once (monitor.startMonitoring).
  if (r.after.state !== "Running") return [];
  return pollJob(deps, { jobId: report.jobId, attempt: report.attempt, seq: r.after.monitorSeq }, "report", r.after);
}
