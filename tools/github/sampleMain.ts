#!/usr/bin/env node
/**
 * Prints a real workflow_job payload (from @octokit/webhooks-examples), changed as
 * asked, for posting to a local Burst with curl — see docs/github.md.
 */
import { parseArgs } from "node:util";
import { workflowJobPayload, type WorkflowJobAction } from "./samples.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: "string" }, "run-id": { type: "string" }, labels: { type: "string" }, repo: { type: "string" },
    runner: { type: "string" }, conclusion: { type: "string" }, installation: { type: "string" }, help: { type: "boolean", short: "h" },
  },
});
const action = positionals[0] as WorkflowJobAction | undefined;
if (values.help || !action || !["queued", "in_progress", "completed", "waiting"].includes(action)) {
  process.stdout.write(`Usage: node dist/tools/github/sampleMain.js queued|in_progress|completed [--id N] [--run-id N]
  [--labels self-hosted,burst] [--repo owner/name] [--runner NAME] [--conclusion success|cancelled] [--installation N]\n`);
  process.exit(values.help ? 0 : 2);
}
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
process.stdout.write(`${JSON.stringify(workflowJobPayload(action, {
  id: num(values.id), runId: num(values["run-id"]), labels: values.labels?.split(",").map((l) => l.trim()).filter(Boolean),
  repository: values.repo, runnerName: values.runner, conclusion: values.conclusion, installationId: num(values.installation),
}))}\n`);
