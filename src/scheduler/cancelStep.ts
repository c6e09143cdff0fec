/**
 * Cancellation, in any state: a waiting job leaves the line and is Canceled at once; a
 * job that holds a slot is flagged, and the launcher or the next poll (which is made
 * to come now) stops and deletes its group. An array parent stops making children and
 * cancels the unfinished ones (array.ts); it ends Canceled once they have.
 *
 * A leaf: it answers the steps that follow (a launch, children to cancel, a parent to
 * tell), and flow.ts runs them; cancel.ts is the entry point.
 */
import type { JobRecord } from "../model.js";
import { changeJob, isFinal } from "../jobState.js";
import { lineKey } from "./lineEntry.js";
import type { Deps } from "./deps.js";
import type { Next } from "./flow.js";
import { decideParent, liveChildren } from "./array.js";
import { endedSteps } from "./dependencies.js";
import { sendEndEvents } from "../events/emit.js";

export type CancelResult =
  { outcome: "canceled" | "canceling"; job: JobRecord } | { outcome: "finished"; job: JobRecord } | { outcome: "notFound" };

export async function cancelStep(deps: Deps, jobId: string): Promise<{ result: CancelResult; next: Next[] }> {
  const flagged = await changeJob(deps, jobId, (job) =>
    isFinal(job.state) || job.cancelRequested ? undefined : { ...job, cancelRequested: true, updatedAt: deps.clock.now().toISOString() },
  );
  if (!flagged) return { result: { outcome: "notFound" }, next: [] };
  const job = flagged.after;
  if (isFinal(job.state)) return { result: { outcome: "finished", job }, next: [] };
  const next: Next[] = [];

  if (job.array) {
    // Ends now if nothing of it runs; else once its children (canceled here) have ended.
    const r = await changeJob(deps, jobId, (j, move) => (j.array && !isFinal(j.state) ? decideParent(j, move) : undefined));
    const parent = r?.after ?? job;
    next.push(...liveChildren(parent).map((id): Next => ({ step: "cancel", jobId: id })));
    if (r?.changed && isFinal(parent.state)) next.push(...endedSteps(parent));
  } else if (job.state === "Waiting" && job.waitingFor?.length) {
    // Not in the line: nobody else can admit it. Its job.ended is queued first (events/emit.ts).
    await sendEndEvents(deps, job, { state: "Canceled", reason: "canceled while waiting for its dependencies", costUsd: job.costUsd });
    const r = await changeJob(deps, jobId, (j, move) =>
      j.state === "Waiting"
        ? move(j, "Canceled", { reason: "canceled while waiting for its dependencies", waitingFor: undefined })
        : undefined,
    );
    if (r?.changed) return { result: { outcome: "canceled", job: r.after }, next: endedSteps(r.after) };
  } else if (job.state === "Waiting") {
    // Only the one who takes the entry out of the line decides: us (cancel now) or the pump (admitted; the launcher cancels).
    // The key under the pool's order now, else the arrival-order key (an entry made before the order was set or changed).
    const key = lineKey(job, deps.config.pools.get(job.pool)?.order ?? "fifo");
    const removed =
      (await deps.ledger.removeWaiting(job.pool, key)) ||
      (key !== lineKey(job, "fifo") && (await deps.ledger.removeWaiting(job.pool, lineKey(job, "fifo"))));
    if (removed) {
      // Taken out of the line, it is ours to end: its job.ended is queued first (events/emit.ts).
      await sendEndEvents(deps, job, { state: "Canceled", reason: "canceled while waiting", costUsd: job.costUsd });
      const r = await changeJob(deps, jobId, (j, move) =>
        j.state === "Waiting" ? move(j, "Canceled", { reason: "canceled while waiting" }) : undefined,
      );
      if (r?.changed) next.push(...endedSteps(r.after));
      if (r?.changed) return { result: { outcome: "canceled", job: r.after }, next };
    }
  } else if (job.state === "Admitted") {
    next.push({ step: "launch", jobId });
  } else if (job.state === "Running") {
    // The current chain token: whichever of this and the scheduled poll runs first acts; the other is stale.
    await deps.outbox.send("monitor", { jobId, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq, fresh: true });
  }
  return { result: { outcome: "canceling", job }, next };
}
