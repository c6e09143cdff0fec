#!/usr/bin/env node
/** `npm run chaos`: the long chaos run; prints the figures and exits non-zero on any violation. */
import { parseArgs } from "node:util";
import { runChaos } from "./run.js";

const HELP = `Usage: npm run chaos -- [options]

Runs jobs through the whole local stack while killing hosts, restarting Azurite and
injecting ARM faults, then checks Burst's invariants.

Options:
  --jobs N            jobs to run (default 200)
  --hosts N           local hosts at once (default 3)
  --seed N            seed for the workload and the chaos (default 1)
  --kill-every A-B    random gap between host kills, seconds (default 3-8)
  --azurite-restarts N  (default 2)
  --max-minutes N     give up waiting for jobs after this long (default 12)
  --array N           add one array job of N children (default 20; 0 for none)
  -h, --help
`;

function num(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string" }, hosts: { type: "string" }, seed: { type: "string" }, "kill-every": { type: "string" },
      "azurite-restarts": { type: "string" }, "max-minutes": { type: "string" }, array: { type: "string" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const gap = (values["kill-every"] ?? "3-8").split("-").map(Number);
  if (gap.length !== 2 || gap.some((x) => !Number.isFinite(x) || x <= 0) || gap[0]! > gap[1]!) throw new Error(`--kill-every must look like 3-8 (seconds), got ${JSON.stringify(values["kill-every"])}`);
  const report = await runChaos({
    jobs: num("jobs", values.jobs, 200),
    hosts: Math.max(1, num("hosts", values.hosts, 3)),
    seed: num("seed", values.seed, 1),
    killGapMs: [gap[0]! * 1000, gap[1]! * 1000],
    azuriteRestarts: num("azurite-restarts", values["azurite-restarts"], 2),
    duplicateShare: 0.2,
    maxDurationMs: num("max-minutes", values["max-minutes"], 12) * 60_000,
    arrayChildren: num("array", values.array, 20),
    log: (l) => process.stderr.write(`chaos: ${l}\n`),
  });
  const { violations, ...figures } = report;
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`violations: ${violations.length}\n`);
  for (const v of violations) process.stdout.write(`  - ${v}\n`);
  if (violations.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
