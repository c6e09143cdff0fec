#!/usr/bin/env node
/**
 * `burst`: the command line for the Burst HTTP API. Failures end with a non-zero exit
 * and one line on stderr starting "burst:", never a stack trace.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { CliError } from "./client.js";
import { runCommand } from "./commands/run.js";
import { submitCommand } from "./commands/submit.js";
import { cancelCommand, logsCommand, lsCommand, retryCommand, statusCommand } from "./commands/jobs.js";
import { costCommand, poolsCommand } from "./commands/pools.js";
import { poisonCommand } from "./commands/poison.js";
import { scheduleCommand } from "./commands/schedule.js";

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const oneLineErrors = { outputError: (str: string, write: (s: string) => void) => write(`burst: ${str.replace(/^error: /, "").trimEnd()}\n`) };

export function program(): Command {
  const p = new Command("burst")
    .description("Run containers in bursts on Azure Container Instances, through the Burst API")
    .version(version())
    // Lets `burst run IMAGE cmd -x` pass -x to the container instead of parsing it.
    .enablePositionalOptions()
    .configureOutput(oneLineErrors)
    .addHelpText("after", `
Connection: --url and --key on every command, or BURST_URL and BURST_API_KEY;
the defaults (http://localhost:7071, the local key) work with \`npm start\`.
Output: -o table (default) or -o json. Run \`burst COMMAND --help\` for a command's flags.`);
  for (const c of [submitCommand(), runCommand(), lsCommand(), statusCommand(), logsCommand(), cancelCommand(), retryCommand(), poolsCommand(), costCommand(), poisonCommand(), scheduleCommand()]) {
    // Subcommands made apart from the program do not inherit its settings.
    p.addCommand(c.configureOutput(oneLineErrors));
    for (const sub of c.commands) sub.configureOutput(oneLineErrors);
  }
  return p;
}

program().parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`burst: ${message.split("\n")[0]}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
