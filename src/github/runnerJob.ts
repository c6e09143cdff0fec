/**
 * From a queued workflow job and its profile to a Burst job: the spec (the runner's
 * JIT configuration as a secure value), the labels and the source that link the job
 * back to GitHub, and the runner's name — which carries the job id, so an
 * `in_progress` event for any runner of ours finds the job that runs it.
 */
import type { JobSpecInput } from "../jobSpec.js";
import { jobIdForInternalKey } from "../scheduler/ids.js";
import { JITCONFIG_VAR, runnerSpecBase, scopeText, type RunnerProfile } from "./profiles.js";
import type { WorkflowJobEvent } from "./payload.js";

export const SOURCE_KIND = "github-workflow-job";

/**
 * One workflow job id, one runner job: GitHub's ids are unique across repositories. The
 * key is internal (jobIdForInternalKey), so a user's idempotencyKey can never take it.
 */
export function runnerKey(workflowJobId: number): string {
  return `github-workflow-job:${workflowJobId}`;
}

export function runnerJobId(profile: RunnerProfile, workflowJobId: number): string {
  return jobIdForInternalKey(profile.pool, runnerKey(workflowJobId));
}

export function runnerName(jobId: string, generation: number): string {
  return `burst-${jobId}-${generation}`;
}

/** The Burst job id in one of our runner names, or undefined for anyone else's runner. */
export function jobIdOfRunner(name: string | null | undefined): string | undefined {
  return /^burst-(k[0-9a-z]{18})-\d+$/.exec(name ?? "")?.[1];
}

function displayName(e: WorkflowJobEvent): string {
  const parts = [e.repository.full_name, e.workflow_job.workflow_name, e.workflow_job.name].filter(Boolean).join(" / ");
  return parts.replace(/[\x00-\x1F\x7F]/g, " ").slice(0, 128);
}

export function runnerSource(e: WorkflowJobEvent, profile: RunnerProfile, runner: { name: string; id: number }, deliveryId: string | undefined): Record<string, string | number> {
  const j = e.workflow_job;
  const out: Record<string, string | number> = {
    kind: SOURCE_KIND,
    repository: e.repository.full_name,
    runId: j.run_id,
    workflowJobId: j.id,
    profile: profile.name,
    scope: scopeText(profile.scope),
    runnerName: runner.name,
    runnerId: runner.id,
  };
  if (j.run_attempt !== undefined) out.runAttempt = j.run_attempt;
  if (j.name) out.workflowJobName = j.name.slice(0, 256);
  if (j.workflow_name) out.workflowName = j.workflow_name.slice(0, 256);
  if (j.html_url) out.url = j.html_url.slice(0, 512);
  if (e.installation?.id) out.installationId = e.installation.id;
  if (deliveryId) out.deliveryId = deliveryId.slice(0, 64);
  return out;
}

export function runnerSpec(e: WorkflowJobEvent, profile: RunnerProfile, encodedJitConfig: string): JobSpecInput {
  return {
    ...runnerSpecBase(profile),
    name: displayName(e),
    secureEnv: { [JITCONFIG_VAR]: encodedJitConfig },
    labels: {
      "github/repository": e.repository.full_name.slice(0, 256),
      "github/run-id": String(e.workflow_job.run_id),
      "github/workflow-job-id": String(e.workflow_job.id),
      "burst/runner-profile": profile.name,
    },
  };
}
