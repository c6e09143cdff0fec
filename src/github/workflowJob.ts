/**
 * What each `workflow_job` action does.
 *
 * - queued:      claim the workflow job id, mint one JIT runner configuration, submit one
 *                runner job (idempotencyKey from the workflow job id). See claims.ts for
 *                how redeliveries, concurrent deliveries and crashes between the steps
 *                end in exactly one mint and one job.
 * - in_progress: record which runner took the workflow job — on that runner's job (if it
 *                is ours: the runner name carries the job id) and on the job launched for
 *                this workflow job.
 * - completed:   close the claim (a late `queued` then launches nothing) and, if the
 *                runner launched for this workflow job never took any job, remove its
 *                registration and cancel its runner job, so no idle runner keeps costing.
 *
 * GitHub gives a queued job to any idle runner with matching labels, so the runner
 * launched for workflow job A may well run job B. A runner is therefore "idle" only if
 * no `in_progress` named it and GitHub does not report it busy.
 */
import { ConfigError } from "../config.js";
import { isFinal } from "../jobState.js";
import type { JobRecord } from "../model.js";
import { open, seal, type KeyRing } from "../secrets.js";
import { cancelJob } from "../scheduler/cancel.js";
import type { Deps } from "../scheduler/deps.js";
import { resumeSubmission, submitJob } from "../scheduler/submit.js";
import { changeJob } from "../jobState.js";
import { errorMessage } from "../errors.js";
import { retryOnConflict } from "../store/tables.js";
import type { GitHubApi } from "./api.js";
import type { Claim, ClaimStore } from "./claims.js";
import type { WorkflowJobEvent } from "./payload.js";
import { JITCONFIG_VAR, matchProfile, parseScope, type RunnerProfile, type Scope } from "./profiles.js";
import { jobIdOfRunner, runnerJobId, runnerKey, runnerName, runnerSource, runnerSpec } from "./runnerJob.js";
import type { GitHubSettings } from "./settings.js";

/** How long a claim protects a mint in flight; well beyond the mint call's 10 s timeout. */
export const CLAIM_LEASE_MS = 60_000;
/** A released claim: its lease is over, so the next delivery takes it over at once. */
const RELEASED = new Date(0).toISOString();

export interface GitHubDeps {
  deps: Deps;
  settings: GitHubSettings;
  api: GitHubApi;
  claims: ClaimStore;
  leaseMs?: number;
}

export interface Outcome {
  status: number;
  outcome: string;
  jobId?: string;
  reason?: string;
}

const claimAad = (workflowJobId: number) => `github-workflow-job:${workflowJobId}`;

function secretKey(g: GitHubDeps): KeyRing {
  const ring = g.deps.config.secrets;
  if (!ring.current) throw new ConfigError("GitHub runners need BURST_SECRET_KEY (32 random bytes, base64) to seal each runner's JIT configuration; none is configured");
  return ring;
}

function profileFor(g: GitHubDeps, e: WorkflowJobEvent): RunnerProfile | undefined {
  return matchProfile(g.settings.profiles, { labels: e.workflow_job.labels, repository: e.repository.full_name, public: isPublic(e) });
}

/** GitHub sends `private` (and `visibility`); a payload saying neither is taken as public. */
function isPublic(e: WorkflowJobEvent): boolean {
  if (e.repository.visibility) return e.repository.visibility === "public";
  return e.repository.private !== true;
}

// ---------------------------------------------------------------- queued

export async function onQueued(g: GitHubDeps, e: WorkflowJobEvent, deliveryId?: string): Promise<Outcome> {
  const profile = profileFor(g, e);
  const wj = e.workflow_job;
  if (!profile) {
    const why = isPublic(e) ? " (a public repository: a profile must set allowPublicRepositories)" : "";
    return { status: 200, outcome: "ignored", reason: `no runner profile matches labels ${JSON.stringify(wj.labels)} in ${e.repository.full_name}${why}` };
  }
  secretKey(g);
  const jobId = runnerJobId(profile, wj.id);
  const existing = await g.deps.jobs.get(jobId);
  if (existing) {
    await resumeSubmission(g.deps, existing.value);
    return { status: 200, outcome: "exists", jobId };
  }
  return retryOnConflict<Outcome>(`workflow job ${wj.id}: claiming it`, async () => {
    const now = g.deps.clock.now();
    const current = await g.claims.get(wj.id);
    if (!current) {
      const claim: Claim = { workflowJobId: wj.id, status: "claimed", generation: 1, claimedAt: now.toISOString(), updatedAt: now.toISOString(), jobId, profile: profile.name };
      const etag = await g.claims.insert(claim);
      if (etag) return { done: true, value: await mintAndSubmit(g, e, profile, claim, etag, deliveryId) };
      return { done: false }; // a concurrent delivery claimed it first: look again
    }
    const c = current.value;
    switch (c.status) {
      case "closed":
        return { done: true, value: { status: 200, outcome: "completed", reason: "the workflow job has already completed" } };
      case "submitted":
        return { done: true, value: { status: 200, outcome: "exists", jobId: c.jobId } };
      case "minted":
        // A delivery minted and then stopped (or is submitting right now): submitting again is idempotent.
        return { done: true, value: await submit(g, e, profile, c, current.etag, deliveryId) };
      case "claimed": {
        const age = now.getTime() - Date.parse(c.claimedAt);
        if (age < (g.leaseMs ?? CLAIM_LEASE_MS)) {
          return { done: true, value: { status: 202, outcome: "in-progress", jobId, reason: "another delivery of this workflow job is launching its runner" } };
        }
        const taken: Claim = { ...c, generation: c.generation + 1, claimedAt: now.toISOString(), updatedAt: now.toISOString(), jobId, profile: profile.name };
        const etag = await g.claims.replace(taken, current.etag);
        if (!etag) return { done: false };
        if (c.claimedAt !== RELEASED) g.deps.log.warn(`workflow job ${wj.id}: taking over a claim a delivery left ${Math.round(age / 1000)} s ago without launching`);
        return { done: true, value: await mintAndSubmit(g, e, profile, taken, etag, deliveryId) };
      }
    }
    // A status this code does not know (written by a newer version?): read it again, and in the end give up.
    return { done: false };
  }, 10);
}

async function mintAndSubmit(g: GitHubDeps, e: WorkflowJobEvent, profile: RunnerProfile, claim: Claim, etag: string, deliveryId?: string): Promise<Outcome> {
  const wj = e.workflow_job;
  const name = runnerName(claim.jobId!, claim.generation);
  let jit;
  try {
    jit = await g.api.generateJitConfig(profile.scope, { name, runner_group_id: profile.runnerGroupId, labels: profile.labels, work_folder: profile.workFolder }, e.installation?.id ?? undefined);
  } catch (err) {
    // Release the claim so a redelivery may try at once (with a new runner name, in case this mint did register one).
    await g.claims.replace({ ...claim, claimedAt: RELEASED, updatedAt: g.deps.clock.now().toISOString() }, etag).catch(() => undefined);
    throw err;
  }
  const minted: Claim = {
    ...claim, status: "minted", runnerName: jit.runnerName, runnerId: jit.runnerId, updatedAt: g.deps.clock.now().toISOString(),
    sealedJitConfig: seal({ [JITCONFIG_VAR]: jit.encodedJitConfig }, secretKey(g), claimAad(wj.id)),
  };
  const mintedEtag = await g.claims.replace(minted, etag);
  if (!mintedEtag) {
    // Closed by `completed`, or taken over after our lease ran out: this runner is not wanted.
    await removeRunner(g, profile.scope, jit.runnerId, e);
    return { status: 200, outcome: "superseded", reason: "the workflow job's claim changed while its runner was being registered" };
  }
  return submit(g, e, profile, minted, mintedEtag, deliveryId, jit.encodedJitConfig);
}

async function submit(g: GitHubDeps, e: WorkflowJobEvent, profile: RunnerProfile, claim: Claim, etag: string, deliveryId?: string, jitConfig?: string): Promise<Outcome> {
  const wj = e.workflow_job;
  const config = jitConfig ?? open(claim.sealedJitConfig!, secretKey(g), claimAad(wj.id))[JITCONFIG_VAR]!;
  const { job, created } = await submitJob(g.deps, runnerSpec(e, profile, config), {
    internalKey: runnerKey(wj.id),
    source: runnerSource(e, profile, { name: claim.runnerName!, id: claim.runnerId! }, deliveryId),
  });
  if (job.state === "Rejected") {
    await removeRunner(g, profile.scope, claim.runnerId!, e);
  }
  await settleClaim(g, e, claim, etag, job);
  if (job.state === "Rejected") return { status: 200, outcome: "rejected", jobId: job.id, reason: job.reason };
  return { status: created ? 201 : 200, outcome: created ? "launched" : "exists", jobId: job.id };
}

/** minted → submitted, dropping the sealed configuration; if `completed` closed the claim meanwhile, the new job is not wanted. */
async function settleClaim(g: GitHubDeps, e: WorkflowJobEvent, claim: Claim, etag: string, job: JobRecord): Promise<void> {
  let current: { value: Claim; etag: string } | undefined = { value: claim, etag };
  for (let i = 0; i < 10 && current; i++) {
    const c = current.value;
    if (c.status === "submitted") return;
    if (c.status === "closed") {
      await stopIdleRunner(g, e, job.id);
      return;
    }
    const { sealedJitConfig: _dropped, ...rest } = c;
    if (await g.claims.replace({ ...rest, status: "submitted", jobId: job.id, updatedAt: g.deps.clock.now().toISOString() }, current.etag)) return;
    current = await g.claims.get(claim.workflowJobId);
  }
}

// ---------------------------------------------------------------- in_progress

export async function onInProgress(g: GitHubDeps, e: WorkflowJobEvent): Promise<Outcome> {
  const wj = e.workflow_job;
  const now = g.deps.clock.now().toISOString();
  const runner = wj.runner_name ?? undefined;
  const runnersJob = jobIdOfRunner(runner);
  const claim = (await g.claims.get(wj.id))?.value;
  if (!runnersJob && !claim?.jobId) return { status: 200, outcome: "ignored", reason: "neither the workflow job nor its runner is Burst's" };
  if (runnersJob) {
    // Our runner took this workflow job (whichever one it was launched for): it is busy, not idle.
    await recordSource(g.deps, runnersJob, (s) => (s.pickedUpWorkflowJobId ? undefined : { pickedUpWorkflowJobId: wj.id, pickedUpAt: now }));
  }
  if (claim?.jobId && runner) {
    await recordSource(g.deps, claim.jobId, (s) => (s.servedBy === runner ? undefined : { servedBy: runner, ...(wj.runner_id ? { servedByRunnerId: wj.runner_id } : {}) }));
  }
  return { status: 200, outcome: "recorded", jobId: claim?.jobId ?? runnersJob };
}

// ---------------------------------------------------------------- completed

export async function onCompleted(g: GitHubDeps, e: WorkflowJobEvent): Promise<Outcome> {
  const wj = e.workflow_job;
  const closed = await closeClaim(g, e);
  if (!closed) return { status: 200, outcome: "ignored", reason: "no runner of Burst's was launched for this workflow job" };
  const { before } = closed;
  // Already closed is no reason to stop here: a redelivered `completed` retries a stop that failed (all steps are idempotent).
  if (!before?.jobId) return { status: 200, outcome: "closed" };
  const job = (await g.deps.jobs.get(before.jobId))?.value;
  if (!job) {
    // Minted but never submitted: only the registration is left to remove.
    if (before.runnerId) await removeRunner(g, g.settings.profiles.find((p) => p.name === before.profile)?.scope, before.runnerId, e);
    return { status: 200, outcome: "closed" };
  }
  const runner = wj.runner_name ?? undefined;
  await recordSource(g.deps, job.id, () => ({
    conclusion: wj.conclusion ?? "unknown",
    completedAt: g.deps.clock.now().toISOString(),
    ...(runner ? { servedBy: runner } : {}),
  }));
  if (runner && runner === job.source?.runnerName) return { status: 200, outcome: "served", jobId: job.id };
  const stopped = await stopIdleRunner(g, e, job.id);
  return { status: 200, outcome: stopped, jobId: job.id };
}

/** Marks the claim closed (inserting a closed one if a matching job has none yet); undefined if the workflow job is not ours. */
async function closeClaim(g: GitHubDeps, e: WorkflowJobEvent): Promise<{ before?: Claim } | undefined> {
  const wj = e.workflow_job;
  const reason = `completed (${wj.conclusion ?? "no conclusion"})`;
  return retryOnConflict<{ before?: Claim } | undefined>(`workflow job ${wj.id}: closing its claim`, async () => {
    const now = g.deps.clock.now().toISOString();
    const current = await g.claims.get(wj.id);
    if (!current) {
      if (!profileFor(g, e)) return { done: true, value: undefined };
      const tomb: Claim = { workflowJobId: wj.id, status: "closed", generation: 0, claimedAt: now, updatedAt: now, closedReason: reason };
      return (await g.claims.insert(tomb)) ? { done: true, value: {} } : { done: false };
    }
    if (current.value.status === "closed") return { done: true, value: { before: current.value } };
    const { sealedJitConfig: _dropped, ...rest } = current.value;
    if (await g.claims.replace({ ...rest, status: "closed", closedReason: reason, updatedAt: now }, current.etag)) return { done: true, value: { before: current.value } };
    return { done: false };
  }, 10);
}

/**
 * Stops the runner job launched for this workflow job if its runner is idle: no
 * `in_progress` named it and GitHub does not report it busy. The registration goes
 * first, so GitHub cannot hand the runner a job while its container is being stopped.
 */
async function stopIdleRunner(g: GitHubDeps, e: WorkflowJobEvent, jobId: string): Promise<string> {
  const job = (await g.deps.jobs.get(jobId))?.value;
  if (!job || isFinal(job.state)) return "finished";
  const src = job.source ?? {};
  if (src.pickedUpWorkflowJobId) return "busy";
  const scope = parseScope(String(src.scope ?? ""));
  const runnerId = typeof src.runnerId === "number" ? src.runnerId : undefined;
  if (scope && runnerId) {
    const installationId = e.installation?.id ?? (typeof src.installationId === "number" ? src.installationId : undefined);
    const info = await g.api.getRunner(scope, runnerId, installationId);
    if (info?.busy) return "busy";
    if (info) await g.api.deleteRunner(scope, runnerId, installationId);
  }
  const r = await cancelJob(g.deps, jobId);
  g.deps.log.info(`workflow job ${e.workflow_job.id} completed without runner ${String(src.runnerName)}: runner job ${jobId} ${r.outcome}`);
  return r.outcome === "notFound" ? "finished" : r.outcome;
}

async function removeRunner(g: GitHubDeps, scope: Scope | undefined, runnerId: number, e: WorkflowJobEvent): Promise<void> {
  if (!scope) return;
  try {
    await g.api.deleteRunner(scope, runnerId, e.installation?.id ?? undefined);
  } catch (err) {
    // Best effort: an unused JIT registration that never connects is removed by GitHub in time.
    g.deps.log.warn(`could not remove runner registration ${runnerId}: ${errorMessage(err)}`);
  }
}

async function recordSource(deps: Deps, jobId: string, patch: (source: Record<string, string | number>) => Record<string, string | number> | undefined): Promise<void> {
  await changeJob(deps, jobId, (job) => {
    const p = patch(job.source ?? {});
    return p ? { ...job, source: { ...job.source, ...p } } : undefined;
  });
}
