/**
 * `burst run IMAGE [-- CMD ARGS...]`: docker run for Burst. Submits one job, shows its
 * progress while it waits and provisions (stderr, on a terminal), streams its output
 * to stdout as it runs, and exits with the container's exit code. Ctrl-C cancels the
 * job (it costs money while it runs); a second Ctrl-C stops following while the cancel goes on.
 */
import { Command } from "commander";
import type { PublicJob } from "../../api/views.js";
import { contextOf, integer, keyValue, port, positiveNumber, wholeNumber, withCommon } from "../common.js";
import { followLog } from "../follow.js";
import { Progress, printJson } from "../output.js";

/** Exit codes when the job did not end with an exit code of its own (docker's and timeout(1)'s conventions). */
export const EXIT_TIMED_OUT = 124;
export const EXIT_COULD_NOT_RUN = 125;
export const EXIT_CANCELED = 130;

function labelPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  return eq < 0 ? { ...previous, [value]: "" } : { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

interface RunFlags {
  cpu?: number;
  memory?: number;
  env?: Record<string, string>;
  secureEnv?: Record<string, string>;
  timeout?: number;
  pool?: string;
  name?: string;
  label?: Record<string, string>;
  port?: number[];
  publicIp?: boolean;
  retries?: number;
  detach?: boolean;
  maxCost?: number;
  priority?: number;
  idempotencyKey?: string;
}

function specOf(image: string, command: string[], f: RunFlags): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    image, command: command.length ? command : undefined, cpu: f.cpu, memoryGb: f.memory, env: f.env, secureEnv: f.secureEnv,
    timeoutSeconds: f.timeout, pool: f.pool, name: f.name, labels: f.label, ports: f.port, publicIp: f.publicIp, retries: f.retries,
    maxCostUsd: f.maxCost, priority: f.priority, idempotencyKey: f.idempotencyKey,
  };
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return spec;
}

export function exitCodeFor(job: Pick<PublicJob, "id" | "state" | "exitCode" | "reason">): { code: number; message?: string } {
  switch (job.state) {
    case "Succeeded": return { code: 0 };
    case "Failed": return job.exitCode !== undefined && job.exitCode !== 0
      ? { code: job.exitCode }
      : { code: EXIT_COULD_NOT_RUN, message: `job ${job.id} failed: ${job.reason ?? "no reason given"}` };
    case "TimedOut": return { code: EXIT_TIMED_OUT, message: `job ${job.id} timed out: ${job.reason ?? ""}`.trim() };
    case "Canceled": return { code: EXIT_CANCELED, message: `job ${job.id} was canceled` };
    default: return { code: EXIT_COULD_NOT_RUN, message: `job ${job.id} ended ${job.state}: ${job.reason ?? "no reason given"}` };
  }
}

function durationSeconds(job: PublicJob): number | null {
  const a = job.attempts.at(-1);
  if (!a?.startedAt || !a.finishedAt) return null;
  return Math.max(0, Date.parse(a.finishedAt) - Date.parse(a.startedAt)) / 1000;
}

function urlsOf(job: PublicJob): string[] {
  const a = job.address;
  return a?.ip ? (a.ports ?? []).map((p) => `http://${a.ip}${p === 80 ? "" : `:${p}`}/`) : [];
}

export function runCommand(): Command {
  return withCommon(new Command("run"))
    .description("run a container like docker run: submit it, stream its output, exit with its exit code")
    .argument("<image>", "container image, e.g. alpine or mcr.microsoft.com/azuredocs/aci-helloworld")
    .argument("[command...]", "command and arguments; put them after -- (burst run alpine -- sh -c 'echo hi')")
    .option("--cpu <vcpu>", "vCPUs (default 1)", positiveNumber)
    .option("--memory <gb>", "memory in GB (default 1.5)", positiveNumber)
    .option("-e, --env <NAME=VALUE>", "environment variable; NAME alone takes it from this environment (repeatable)", keyValue)
    .option("--secure-env <NAME=VALUE>", "secure environment variable, never shown by Burst (repeatable; NAME alone reads it from this environment)", keyValue)
    .option("--timeout <seconds>", "stop the container after this many seconds", wholeNumber)
    .option("--pool <name>", "pool to run in (default: default)")
    .option("--name <name>", "a name for the job")
    .option("-l, --label <KEY=VALUE>", "label (repeatable)", labelPair)
    .option("-p, --port <port>", "port the container serves (repeatable)", port)
    .option("--public-ip", "give the container a public IP address for its ports, and print it")
    .option("--retries <n>", "retries after a non-zero exit", wholeNumber)
    .option("--max-cost <usd>", "stop the container before it costs more than this many dollars", positiveNumber)
    .option("--priority <n>", "higher is admitted first (up to the pool's maxPriority)", integer)
    .option("--idempotency-key <key>", "the same key and spec run once, however often this is run")
    .option("-d, --detach", "submit, print the job id and return without waiting")
    .passThroughOptions()
    .addHelpText("after", `
Exit status: the container's exit code; ${EXIT_TIMED_OUT} if it timed out, ${EXIT_CANCELED} if canceled,
${EXIT_COULD_NOT_RUN} if it could not run (no exit code), 1 if Burst itself failed.

Examples:
  burst run alpine -- sh -c 'echo hello from Burst'
  burst run --cpu 2 --memory 4 --timeout 600 -e MODE=fast python:3.12 -- python -c 'print(42)'
  burst run --public-ip -p 80 mcr.microsoft.com/azuredocs/aci-helloworld`)
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      // With options passed through after IMAGE, commander keeps the "--" separator itself: drop it.
      const spec = specOf(image, command[0] === "--" ? command.slice(1) : command, flags);
      const submitted = await client.json<{ id: string; state: string }>("POST", "jobs", { body: JSON.stringify(spec), contentType: "application/json" });
      const id = submitted.id;
      if (flags.detach) {
        if (output === "json") printJson(submitted);
        else process.stdout.write(`${id}\n`);
        return;
      }
      const progress = new Progress();
      let wrote = false;
      let logs = "";
      let addressShown = !flags.publicIp;
      let lastWaiting: string | undefined;
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        progress.clear();
        if (interrupts > 1) process.exit(EXIT_CANCELED);
        process.stderr.write(`burst: canceling job ${id} (Ctrl-C again to stop following; the cancel goes on)\n`);
        client.call("DELETE", `jobs/${id}`).catch((err: Error) => process.stderr.write(`burst: ${err.message}\n`));
      };
      process.on("SIGINT", onSigint);
      try {
        // Say why it waits (a full pool, the budget, a retry's backoff), not just that it does:
        // at once, since the log's long poll may hold its first answer for a while.
        const showWaiting = async (state: string) => {
          const { waiting } = await client.json<PublicJob>("GET", `jobs/${id}`);
          progress.update(`${id}: ${state}${waiting ? `: ${waiting.text}` : ""}`);
          // Without a terminal there is no progress line: say it once per new reason instead.
          if (!progress.enabled && waiting && waiting.reason !== "admitting" && waiting.reason !== lastWaiting) process.stderr.write(`burst: job ${id} is waiting: ${waiting.text}\n`);
          lastWaiting = waiting?.reason;
        };
        if (submitted.state === "Waiting") await showWaiting(submitted.state);
        else progress.update(`${id}: ${submitted.state}`);
        await followLog(client, id, {
          // While waiting for the address, come back often to look for it.
          wait: () => (addressShown ? undefined : 2),
          onText: (text) => {
            if (output === "json") { logs += text; return; }
            progress.clear();
            wrote = true;
            process.stdout.write(text);
          },
          onState: async (state) => {
            if (!wrote && (state === "Waiting" || state === "Launching")) await showWaiting(state);
            else if (!wrote) progress.update(`${id}: ${state}${state === "Running" ? " (provisioning or starting)" : ""}`);
            if (!addressShown && state === "Running") {
              const job = await client.json<PublicJob>("GET", `jobs/${id}`);
              const urls = urlsOf(job);
              if (urls.length > 0 && job.startedAt) {
                addressShown = true;
                progress.clear();
                process.stderr.write(`burst: job ${id} is reachable at ${urls.join(" ")}\n`);
              }
            }
          },
        });
      } finally {
        process.off("SIGINT", onSigint);
        progress.clear();
      }
      const job = await client.json<PublicJob>("GET", `jobs/${id}`);
      const end = exitCodeFor(job);
      if (output === "json") {
        printJson({ id, state: job.state, exitCode: job.exitCode ?? null, reason: job.reason, costUsd: job.costUsd, durationSeconds: durationSeconds(job), logs });
      }
      if (job.log.truncated) process.stderr.write(`burst: ACI dropped some of job ${id}'s output before Burst could copy it: ${job.log.lines} lines were kept\n`);
      if (end.message) process.stderr.write(`burst: ${end.message}\n`);
      process.exitCode = end.code;
    });
}
