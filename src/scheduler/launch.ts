/**
 * Launch: creates the container group for a job's next attempt — at most once per
 * attempt. The attempt is claimed on the job record (ETag) before the PUT, the group
 * name is deterministic, and whoever resumes a launch looks for the group before
 * creating it, so redelivered or duplicated launch messages adopt instead of launching
 * again.
 */
import { sendPoolBlocked } from "../events/poolEvents.js";
import type { JobRecord } from "../model.js";
import { changeJob } from "../jobState.js";
import { claimAttempt } from "./claim.js";
import { open, SecureValuesUnopenable } from "../secrets.js";
import { buildGroup } from "../aci/groupSpec.js";
import { movesPlacement, PermanentLaunchError, RetryablePlatformError, ThrottledError } from "../errors.js";
import { refFor } from "./ids.js";
import type { Deps } from "./deps.js";
import { holderKey, placementOf, poolOf } from "./pools.js";
import { placementOrder } from "../placements.js";
import type { PoolConfig } from "../config.js";
import { toFinishing } from "./finish.js";
import type { Next } from "./flow.js";
import type { GroupRef } from "../aci/backend.js";
import { wrapCommand } from "../exitReport.js";
import { deadlineOf } from "./pollDecision.js";

/** A launch claim older than this is taken over (its launcher is presumed dead). */
export const LAUNCH_CLAIM_SECONDS = 45;

/**
 * Launches the job's next attempt, or resumes one whose launcher died. Answers whether it
 * did anything, so the reconciler's counts say what really happened: a claim that is still
 * fresh, or a create that ARM throttled until later, is left alone. What follows (watching
 * the group, or finishing the job) is for flow.ts to run.
 */
export interface LaunchResult {
  outcome: "acted" | "nothing";
  next: Next[];
}

const nothing: LaunchResult = { outcome: "nothing", next: [] };
const toFinish = (jobId: string): LaunchResult => ({ outcome: "acted", next: [{ step: "finish", jobId }] });

export async function launchJob(deps: Deps, jobId: string): Promise<LaunchResult> {
  const now = deps.clock.now();
  // An Admitted version this process remembers (the pump's, just written) is a starting point: the claim below is
  // ETag-guarded, and runs again on a fresh read if it is stale. Anything else is read: a "nothing to do" must be fresh.
  const remembered = deps.jobs.recent?.(jobId);
  const before = remembered?.value.state === "Admitted" ? remembered : await deps.jobs.get(jobId);
  if (!before) return nothing;
  // A Waiting job may launch only if the ledger shows it admitted for its next attempt
  // (the pump died before recording it); a stale launch message must never bypass admission.
  if (before.value.state === "Waiting") {
    const snap = await deps.ledger.snapshot(before.value.pool, now);
    if (snap.holders[jobId]?.attempt !== before.value.attempts.length + 1) return nothing;
  }
  let claimed: JobRecord | undefined;
  let takeover = false;
  const r = await changeJob(deps, jobId, (job, move) => {
    claimed = undefined;
    if ((job.state === "Waiting" && job.attempts.length === before.value.attempts.length) || job.state === "Admitted") {
      claimed = claimAttempt(deps, job, move, now);
      takeover = false;
      return claimed;
    }
    if (job.state === "Launching") {
      const current = job.attempts.at(-1)!;
      const age = (now.getTime() - Date.parse(current.claimedAt ?? current.launchedAt ?? job.updatedAt)) / 1000;
      const deferred = current.deferredUntil !== undefined;
      if (deferred ? now.getTime() < Date.parse(current.deferredUntil!) : age < LAUNCH_CLAIM_SECONDS) return undefined;
      // The previous launcher is presumed dead: take its claim over (launchedAt stays, so the PUT body is identical).
      const at = now.toISOString();
      claimed = { ...job, updatedAt: at, attempts: [...job.attempts.slice(0, -1), { ...current, claimedAt: at, acceptedAt: current.acceptedAt ?? at, deferredUntil: undefined }] };
      takeover = true;
      return claimed;
    }
    return undefined;
  }, before);
  if (!r) return nothing;
  if (r.after.state === "Finishing") return toFinish(jobId);
  if (!r.changed || !claimed) return nothing;
  return launchClaimed(deps, claimed, takeover);
}

/**
 * Goes on with an attempt whose claim this process has just written (launchJob's, or the
 * pump's, which claims as it admits): places it, creates its group, and answers what
 * follows. `takeover`: the claim was taken over from a launcher presumed dead, which may
 * have reserved room or created the group already.
 */
export async function launchClaimed(deps: Deps, claimed: JobRecord, takeover = false): Promise<LaunchResult> {
  const jobId = claimed.id;
  let job = claimed;
  const n = job.attempts.at(-1)!.n;

  if (job.cancelRequested) {
    await toFinishing(deps, jobId, n, { outcome: "Canceled", reason: "canceled before launch" });
    return toFinish(jobId);
  }
  const pool = poolOf(deps, job.pool);
  // A launcher that died between reserving room and recording where may have left a reservation behind.
  if (takeover && !job.attempts.at(-1)!.placement) await releaseEverywhere(deps, pool, holderKey(jobId, n));
  // Only a create that probes a placement whose breaker had opened needs to close it; the rest skip that write.
  let probing = false;
  for (;;) {
    if (!job.attempts.at(-1)!.placement) {
      const placed = await place(deps, job, pool);
      if (placed === "gone") return nothing;
      if ("waitSeconds" in placed) {
        await deferLaunch(deps, jobId, n, placed.waitSeconds, placed.reason);
        await sendPoolBlocked(deps, pool, placed.reason, deps.clock.now());
        return { outcome: "acted", next: [] };
      }
      job = placed.job;
      probing = placed.probing;
    }
    const placement = placementOf(pool, job.attempts.at(-1));
    const ref = refFor(deps, job, n);
    try {
      // A resumed launch may find the group its predecessor made: adopt it, never make a second.
      const existing = takeover ? await deps.aci.get(ref) : undefined;
      if (!existing) {
        await createGroup(deps, job, n, ref);
        if (probing) await deps.placements.accepted(placement);
      }
    } catch (err) {
      if (err instanceof RetryablePlatformError && movesPlacement(err.trouble)) {
        // Refused for want of room there: not the job's failure. Cool the placement down and try the next (if the PUT did not land after all).
        const landed = await deps.aci.get(ref);
        if (landed) return { outcome: "acted", next: [{ step: "watch", jobId, attempt: n }] };
        const breaker = await deps.placements.refused(placement, `${err.trouble} (${err.code ?? "no code"})`, deps.clock.now());
        await deps.placements.release(placement, holderKey(jobId, n), { createRefused: true });
        deps.log.warn(`job ${jobId}: attempt ${n} refused by ${placement.id} (${err.code}); it cools down until ${breaker.until}, trying the next placement`);
        const moved = await unplace(deps, jobId, n, placement.id, err.code);
        if (!moved) return nothing;
        job = moved;
        takeover = false;
        continue;
      }
      return launchFailed(deps, jobId, n, ref, err);
    }
    return { outcome: "acted", next: [{ step: "watch", jobId, attempt: n }] };
  }
}

async function releaseEverywhere(deps: Deps, pool: PoolConfig, key: string): Promise<void> {
  for (const p of pool.placements) await deps.placements.release(p, key);
}

/** The placements this job may use now, in order: after a Spot attempt was evicted, a `preferred` job keeps to Regular ones. */
function orderFor(job: JobRecord, pool: PoolConfig) {
  const wanted = job.spec!.spot ?? pool.spot;
  const evicted = job.attempts.some((a) => a.outcome === "PlatformError" && a.placement && placementOf(pool, a).priority === "Spot");
  return placementOrder(pool.placements, wanted === "preferred" && evicted ? "never" : wanted, job.spec!);
}

/**
 * Reserves room for the attempt in the first placement that has it and records where on
 * the attempt, before any PUT. The attempt's clock starts again here: a wait for room is
 * not billed and does not count against its timeout.
 */
async function place(deps: Deps, job: JobRecord, pool: PoolConfig): Promise<{ job: JobRecord; probing: boolean } | { waitSeconds: number; reason: string } | "gone"> {
  const now = deps.clock.now();
  const n = job.attempts.at(-1)!.n;
  const got = await deps.placements.reserve(orderFor(job, pool), holderKey(job.id, n), job.spec!.cpu, now);
  if (!got.ok) {
    const soonest = Math.min(...got.verdicts.map((v) => v.verdict.retryAt), now.getTime() + 60_000);
    const waitSeconds = Math.min(900, Math.max(1, Math.ceil((soonest - now.getTime()) / 1000)));
    return { waitSeconds, reason: `capacity: no placement has room (${got.verdicts.map((v) => `${v.placement.id}: ${v.verdict.detail}`).join("; ")})` };
  }
  const at = now.toISOString();
  const r = await changeJob(deps, job.id, (j) => {
    const a = j.attempts.at(-1);
    if (j.state !== "Launching" || a?.n !== n || a.placement) return undefined;
    return { ...j, reason: `creating the container group in ${got.placement.id}`, attempts: [...j.attempts.slice(0, -1), { ...a, placement: got.placement.id, launchedAt: at, claimedAt: at, acceptedAt: at, deferredUntil: undefined }] };
  });
  if (!r?.changed) {
    await deps.placements.release(got.placement, holderKey(job.id, n));
    return "gone";
  }
  return { job: r.after, probing: got.probing };
}

/** Takes the refused placement off the attempt, keeping the refusal on record. */
async function unplace(deps: Deps, jobId: string, n: number, placement: string, code: string | undefined): Promise<JobRecord | undefined> {
  const r = await changeJob(deps, jobId, (j) => {
    const a = j.attempts.at(-1);
    if (j.state !== "Launching" || a?.n !== n || a.placement !== placement) return undefined;
    return { ...j, attempts: [...j.attempts.slice(0, -1), { ...a, placement: undefined, acceptedAt: undefined, refusedBy: [...(a.refusedBy ?? []), { placement, code }] }] };
  });
  return r?.changed ? r.after : undefined;
}

/** A create that failed for anything but room: the same handling as before placements. */
async function launchFailed(deps: Deps, jobId: string, n: number, ref: GroupRef, err: unknown): Promise<LaunchResult> {
  if (err instanceof RetryablePlatformError) {
    // The PUT may have landed despite the error; only a group that is really absent means it did not.
    // If even that cannot be told (the GET fails too), nothing is concluded: the claim stands and a later launch resumes.
    const landed = await deps.aci.get(ref);
    if (landed) return { outcome: "acted", next: [{ step: "watch", jobId, attempt: n }] };
    if (err instanceof ThrottledError) {
      // Throttled, not failed: keep the slot, and come back when ARM says to.
      await deferLaunch(deps, jobId, n, err.retryAfterSeconds, `ARM throttled the create; retrying at ${new Date(deps.clock.now().getTime() + err.retryAfterSeconds * 1000).toISOString()}`);
      return { outcome: "acted", next: [] };
    }
    await toFinishing(deps, jobId, n, { outcome: "PlatformError", reason: `could not create the container group: ${err.message}` });
    return toFinish(jobId);
  }
  if (err instanceof PermanentLaunchError) {
    await toFinishing(deps, jobId, n, { outcome: "Failed", reason: `ACI refused the container group: ${err.message}` });
    return toFinish(jobId);
  }
  if (err instanceof SecureValuesUnopenable) {
    // Nothing was sent to ACI, and no retry can open them: end the job and free its slot.
    await toFinishing(deps, jobId, n, { outcome: "Failed", reason: err.message });
    return toFinish(jobId);
  }
  throw err;
}

async function deferLaunch(deps: Deps, jobId: string, attemptN: number, afterSeconds: number, reason: string): Promise<void> {
  const until = new Date(deps.clock.now().getTime() + afterSeconds * 1000).toISOString();
  await changeJob(deps, jobId, (job) => {
    const a = job.attempts.at(-1);
    if (job.state !== "Launching" || a?.n !== attemptN) return undefined;
    // The throttled PUT did not land (checked), or none was sent: billing cannot start before the next one.
    return { ...job, reason, attempts: [...job.attempts.slice(0, -1), { ...a, deferredUntil: until, acceptedAt: undefined }] };
  });
  await deps.outbox.send("launch", { jobId }, afterSeconds);
}

async function createGroup(deps: Deps, job: JobRecord, attempt: number, ref: GroupRef): Promise<void> {
  const pool = poolOf(deps, job.pool);
  const placement = placementOf(pool, job.attempts.at(-1));
  const secureEnv = job.sealedSecureEnv ? open(job.sealedSecureEnv, deps.config.secrets, job.sealedFor ?? job.id) : {};
  const launchedAt = new Date(job.attempts.at(-1)!.launchedAt!);
  const exitReport = await exitReportFor(deps, job, attempt);
  const group = buildGroup({ jobId: job.id, attempt, spec: job.spec!, secureEnv, pool, placement, now: launchedAt, deploymentId: deps.config.deploymentId, exitReport });
  const outcome = await deps.aci.create(ref, group);
  deps.log.info(`job ${job.id}: attempt ${attempt} container group ${ref.name} ${outcome === "created" ? "created" : "already existed"}`);
}

/**
 * For an attempt that reports its exit (claimed so: notifyExit, and an account key to sign
 * with; without a key the job is polled as any other, README "Exit reports"): the wrapped
 * command and the URL it reports to. Everything in it follows from the attempt's launch time, so a resumed launch sends the
 * same body. The SAS lives until the attempt's deadline plus the enforcement slack (a
 * report at the deadline still counts); nothing of it is stored.
 */
async function exitReportFor(deps: Deps, job: JobRecord, attempt: number): Promise<{ command: string[]; url: string } | undefined> {
  const pool = poolOf(deps, job.pool);
  const spec = job.spec!;
  if (!job.attempts.at(-1)!.reportsExit || !deps.exitReports || !spec.command) return undefined;
  const launchedAt = job.attempts.at(-1)!.launchedAt!;
  const deadline = deadlineOf(job, pool).at ?? Date.parse(launchedAt) + pool.maxTimeoutSeconds * 1000;
  const url = await deps.exitReports.postUrl(new Date(deadline + pool.enforcementSlackSeconds * 1000));
  return { command: wrapCommand(spec.command, job.id, attempt, deps.exitReports.token(job.id, attempt, launchedAt)), url };
}
