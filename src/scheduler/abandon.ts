/**
 * The last resort for a step that keeps failing. Queue messages are retried, and after
 * host.json's maxDequeueCount tries the host parks them in the poison queue, where
 * nothing acts on them; a job whose launch or monitor message went there used to keep its
 * slot and reservation for good, and wedge its pool. So on a message's last try, if the
 * step fails once more, the job it belongs to is ended here instead: its group is stopped
 * and deleted, the attempt is recorded as Failed with the cause, and the slot and
 * reservation are settled. The message still goes to the poison queue, for a person.
 *
 * When the cause is the record itself (too large to store), it is made smaller first:
 * the spec's command and environment go, the reason says so.
 */
import { changeJob, isFinal } from "../jobState.js";
import { groupName } from "./ids.js";
import { errorMessage } from "../errors.js";
import { RecordTooLarge } from "../store/tables.js";
import type { JobRecord } from "../model.js";
import { refFor } from "./ids.js";
import { toFinishing } from "./finish.js";
import { finish } from "./flow.js";
import type { Deps } from "./deps.js";

/** host.json's `extensions.queues.maxDequeueCount` (a test keeps the two equal). */
export const MAX_DEQUEUE_COUNT = 5;

export type Step = "launch" | "monitor";

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

export async function abandonJob(deps: Deps, jobId: string, step: Step, cause: unknown): Promise<void> {
  const reason = `Burst's ${step} step failed ${MAX_DEQUEUE_COUNT} times in a row (${clip(errorMessage(cause))}); the job was ended so that its slot and reservation are freed`;
  try {
    await end(deps, jobId, reason);
  } catch (err) {
    if (!(err instanceof RecordTooLarge)) throw err;
    await compact(deps, jobId);
    await end(deps, jobId, `${reason}; the record was too large to store, so its command and environment were dropped from it`);
  }
  deps.log.error(`job ${jobId}: ${reason}`);
}

async function end(deps: Deps, jobId: string, reason: string): Promise<void> {
  const got = await deps.jobs.get(jobId);
  if (!got || isFinal(got.value.state)) return;
  const job = got.value;
  const attempt = job.attempts.at(-1);
  if (job.state === "Admitted") {
    // Never claimed for launch: nothing reached ACI. The attempt it was admitted for ends here.
    const now = deps.clock.now();
    const n = job.attempts.length + 1;
    await changeJob(deps, jobId, (j, move) => j.state !== "Admitted" ? undefined
      : move(j, "Finishing", { reason, attempts: [...j.attempts, { n, group: groupName(j.id, n), outcome: "Failed", reason, finishedAt: now.toISOString(), billedSeconds: 0, costUsd: 0 }] }));
  } else if (job.state === "Launching" || job.state === "Running") {
    if (attempt) {
      // Stop it first: whatever happens to the record, nothing keeps running or costing.
      await deps.aci.stop(refFor(deps, job, attempt.n)).catch(() => undefined);
    }
    const now = deps.clock.now().toISOString();
    // Billed (as an upper bound) from the create's acceptance to now.
    await toFinishing(deps, jobId, attempt!.n, { outcome: "Failed", reason, stoppedAt: now });
  }
  // Finishing (now, or already): delete the group, settle the slot, end the job.
  await finish(deps, jobId);
}

/** Makes the record small enough to store: what it ran is dropped, what it cost and why it ended stay. */
async function compact(deps: Deps, jobId: string): Promise<void> {
  await changeJob(deps, jobId, (job): JobRecord => ({
    ...job,
    name: job.name?.slice(0, 128),
    spec: job.spec ? { ...job.spec, command: ["(dropped: the job record was too large to store)"], env: undefined } : job.spec,
    source: undefined,
    attempts: job.attempts.map((a) => ({ ...a, reason: a.reason === undefined ? undefined : clip(a.reason) })),
    reason: job.reason === undefined ? undefined : clip(job.reason),
  }));
}
