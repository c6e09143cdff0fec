/**
 * Real `workflow_job` payloads from @octokit/webhooks-examples (a devDependency: for
 * tests and local runs only), with the fields a test or a local run wants changed.
 */
import { createRequire } from "node:module";

export type WorkflowJobAction = "queued" | "in_progress" | "completed" | "waiting";

export interface SampleOptions {
  id?: number;
  runId?: number;
  labels?: string[];
  /** owner/name */
  repository?: string;
  runnerName?: string | null;
  runnerId?: number | null;
  conclusion?: string | null;
  installationId?: number | null;
  /**
   * The repository's visibility. Private unless asked: Burst serves public repositories
   * only through a profile that allows them, and the examples are public ones.
   */
  visibility?: "public" | "private";
}

interface Example {
  action: string;
  workflow_job: Record<string, unknown>;
  repository: Record<string, unknown> & { owner: Record<string, unknown> };
  installation?: { id: number; node_id?: string };
  [k: string]: unknown;
}

function examples(): Example[] {
  const all = createRequire(import.meta.url)("@octokit/webhooks-examples") as { name: string; examples: Example[] }[];
  return all.find((e) => e.name === "workflow_job")!.examples;
}

/** A copy of the first real example for `action` (one with an installation where there is one), changed as asked. */
export function workflowJobPayload(action: WorkflowJobAction, o: SampleOptions = {}): Example {
  const list = examples().filter((e) => e.action === action);
  const base = list.find((e) => e.installation) ?? list[0];
  if (!base) throw new Error(`@octokit/webhooks-examples has no workflow_job ${action} example`);
  const p = structuredClone(base);
  const j = p.workflow_job;
  if (o.id !== undefined) j.id = o.id;
  if (o.runId !== undefined) j.run_id = o.runId;
  if (o.labels) j.labels = o.labels;
  if (o.runnerName !== undefined) j.runner_name = o.runnerName;
  if (o.runnerId !== undefined) j.runner_id = o.runnerId;
  if (o.conclusion !== undefined) j.conclusion = o.conclusion;
  if (action === "queued") Object.assign(j, { status: "queued", runner_id: o.runnerId ?? null, runner_name: o.runnerName ?? null, runner_group_id: null, runner_group_name: null });
  if (o.repository) {
    const [owner, name] = o.repository.split("/");
    p.repository = { ...p.repository, name, full_name: o.repository, owner: { ...p.repository.owner, login: owner } };
  }
  const visibility = o.visibility ?? "private";
  p.repository = { ...p.repository, private: visibility === "private", visibility };
  if (o.installationId === null) delete p.installation;
  else if (o.installationId !== undefined) p.installation = { ...p.installation, id: o.installationId };
  return p;
}
