/**
 * Cancellation, in any state: a waiting job leaves the line and is Canceled at once; a
 * job that holds a slot is flagged, and the launcher or the next poll (which is made
 * to come now) stops and deletes its group.
 */
import type { JobRecord } from "../model.js";
import { changeJob, isFinal } from "../jobState.js";
import { waitKey } from "../admission.js";
import type { Deps } from "./deps.js";
import { launch } from "./flow.js";

export type CancelResult = { outcome: "canceled" | "canceling"; job: JobRecord } | { outcome: "finished"; job: JobRecord } | { outcome: "notFound" };

export async function cancelJob(deps: Deps, jobId: string): Promise<CancelResult> {
  const flagged = await changeJob(deps, jobId, (job) => (isFinal(job.state) || job.cancelRequested ? undefined : { ...job, cancelRequested: true, updatedAt: deps.clock.now().toISOString() }));
  if (!flagged) return { outcome: "notFound" };
  const job = flagged.after;
  if (isFinal(job.state)) return { outcome: "finished", job };

  if (job.state === "Waiting") {
    // Only the one who takes the entry out of the line decides: us (cancel now) or the pump (admitted; the launcher cancels).
    const removed = await deps.ledger.removeWaiting(job.pool, waitKey(job.priority, job.createdAt, job.id));
    if (removed) {
      const r = await changeJob(deps, jobId, (j, move) => (j.state === "Waiting" ? move(j, "Canceled", { reason: "canceled while waiting" }) : undefined));
      if (r?.changed) return { outcome: "canceled", job: r.after };
    }
  } else if (job.state === "Admitted") {
    await launch(deps, jobId);
  } else if (job.state === "Running") {
    // The current chain token: whichever of this and the scheduled poll runs first acts; the other is stale.
    await deps.outbox.send("monitor", { jobId, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq });
  }
  const latest = (await deps.jobs.get(jobId))!.value;
  return { outcome: isFinal(latest.state) ? "canceled" : "canceling", job: latest };
}
