/**
 * The parts of a `workflow_job` webhook payload Burst reads (the full shape is in
 * GitHub's webhook docs and @octokit/webhooks-examples). Everything else is ignored.
 */
import { z } from "zod";
import { specErrors } from "../jobSpec.js";

const workflowJobEvent = z.object({
  action: z.string(),
  workflow_job: z.object({
    id: z.number().int().positive(),
    run_id: z.number().int(),
    run_attempt: z.number().int().optional(),
    name: z.string().nullish(),
    workflow_name: z.string().nullish(),
    html_url: z.string().nullish(),
    labels: z.array(z.string()),
    runner_id: z.number().int().nullish(),
    runner_name: z.string().nullish(),
    conclusion: z.string().nullish(),
  }),
  repository: z.object({
    full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
    // Absent is treated as public: a runner for a public repository must be asked for.
    private: z.boolean().optional(),
    visibility: z.string().optional(),
  }),
  installation: z.object({ id: z.number().int() }).nullish(),
});

export type WorkflowJobEvent = z.output<typeof workflowJobEvent>;

export type ParsedEvent = { ok: true; event: WorkflowJobEvent } | { ok: false; error: string };

export function parseWorkflowJobEvent(payload: unknown): ParsedEvent {
  const r = workflowJobEvent.safeParse(payload);
  if (r.success) return { ok: true, event: r.data };
  const e = specErrors(r.error)[0]!;
  return { ok: false, error: `not a workflow_job payload: ${e.field} ${e.rule}` };
}
