#!/usr/bin/env node
/**
 * `npm run reconcile`: runs the reconciler once, by hand — the same code the timer runs,
 * safe alongside it — against the configured deployment, or with --local the stack
 * `npm start` runs.
 */
import { parseArgs } from "node:util";
import { describeConfig, loadConfig } from "../config.js";
import { buildDeps, consoleLogger } from "../composition.js";
import { reconcile, ORPHAN_GRACE_SECONDS } from "../scheduler/reconcile.js";
import { withLocalStackSettings } from "./localStack.js";
import { RETENTION_BATCH } from "../scheduler/retention.js";

const HELP = `Usage: npm run reconcile -- [options]

Makes storage and ACI agree again: deletes orphaned container groups, resumes stuck
jobs, repairs pool ledgers, pumps every pool, deletes finished jobs past their
retention. Safe at any time, any number of times.

Options:
  --local                    act on the stack npm start runs (its storage, emulator and key)
  --orphan-grace-seconds N   leave groups younger than this alone (default ${ORPHAN_GRACE_SECONDS})
  --retention-batch N        delete at most N finished jobs past their retention (default ${RETENTION_BATCH})
  -o, --output table|json    report format (default table)
  -h, --help

Settings come from the environment, as the Function App's do (see the README's
configuration table); without BURST_ARM_ENDPOINT it acts on Azure. --local takes the
settings npm start gave its host, under anything set explicitly.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      local: { type: "boolean" },
      "orphan-grace-seconds": { type: "string" },
      "retention-batch": { type: "string" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const graceText = values["orphan-grace-seconds"] ?? String(ORPHAN_GRACE_SECONDS);
  const grace = Number(graceText);
  if (!Number.isFinite(grace) || grace < 0)
    throw new Error(`--orphan-grace-seconds must be a number of seconds ≥ 0, got ${JSON.stringify(graceText)}`);
  const batchText = values["retention-batch"] ?? String(RETENTION_BATCH);
  const retentionBatch = Number(batchText);
  if (!Number.isInteger(retentionBatch) || retentionBatch < 0 || retentionBatch > 1000)
    throw new Error(`--retention-batch must be a whole number of jobs from 0 to 1000, got ${JSON.stringify(batchText)}`);
  const output = values.output ?? "table";
  if (output !== "table" && output !== "json") throw new Error(`--output must be table or json, got ${JSON.stringify(output)}`);
  if (!values.local && !Object.keys(process.env).some((k) => k === "AzureWebJobsStorage" || k.startsWith("AzureWebJobsStorage__"))) {
    throw new Error(
      "AzureWebJobsStorage is not set, so there is no deployment to act on: set it (and BURST_ARM_ENDPOINT for anything but Azure), or pass --local for the stack npm start runs",
    );
  }
  const config = loadConfig(values.local ? withLocalStackSettings() : process.env);
  // On stderr, so that -o json stays one document.
  process.stderr.write(`reconcile: ${describeConfig(config)}\n`);
  const deps = buildDeps(config, consoleLogger);
  const report = await reconcile(deps, { orphanGraceSeconds: grace, retentionBatch });
  if (output === "json") process.stdout.write(`${JSON.stringify(report)}\n`);
  else for (const [k, v] of Object.entries(report)) process.stdout.write(`${k.padEnd(18)}${v}\n`);
  if (report.errors > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`reconcile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
