/** `burst ls`, `burst status ID`, `burst logs ID [-f]`, `burst cancel ID...` and `burst retry ID --failed`. */
import { Command, InvalidArgumentError, Option } from "commander";
import { JOB_ORDERS, type JobOrder } from "../../store/jobStore.js";
import { FINAL_STATES, JOB_STATES, type JobState } from "../../model.js";
import type { JobSummary, PublicJob } from "../../api/views.js";
import { CliError } from "../client.js";
import { contextOf, wholeNumber, withCommon } from "../common.js";
import { followLog, readLog } from "../follow.js";
import { fields, printJson, seconds, table, usd, when } from "../output.js";

const jobPath = (id: string) => `jobs/${encodeURIComponent(id)}`;

/** One of `values`, whatever its case (`--state running`), named as documented. */
function anyCase<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    const match = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!match) throw new InvalidArgumentError(`must be one of ${values.join(", ")}`);
    return match;
  };
}

export function lsCommand(): Command {
  return withCommon(new Command("ls"))
    .alias("list")
    .description("list jobs, newest first, filtered by state, pool or label")
    .addOption(new Option("--state <state>", `only jobs in this state: ${JOB_STATES.join(", ")} (any case)`).argParser(anyCase(JOB_STATES)))
    .option("--pool <name>", "only jobs in this pool")
    .option("--label <KEY[=VALUE]>", "only jobs with this label (and value)")
    .addOption(new Option("--sort <order>", "newest or oldest first").argParser(anyCase(JOB_ORDERS)).default("newest"))
    .option("--limit <n>", "at most this many jobs", wholeNumber, 50)
    .addHelpText("after", `
Examples:
  burst ls --state running
  burst ls --label team=data --limit 200 -o json
  burst ls --sort oldest --pool default`)
    .action(async (flags: { state?: string; pool?: string; label?: string; sort: JobOrder; limit: number }, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      if (flags.limit < 1) throw new CliError("--limit must be at least 1");
      const jobs: JobSummary[] = [];
      let token: string | undefined;
      do {
        const page = await client.json<{ jobs: JobSummary[]; continuationToken: string | null }>("GET", "jobs", {
          // One more than asked for: whether the list is cut is then known, not guessed.
          query: { state: flags.state, pool: flags.pool, label: flags.label, sort: flags.sort, limit: Math.min(1000, flags.limit + 1 - jobs.length), continuationToken: token },
        });
        jobs.push(...page.jobs);
        token = page.continuationToken ?? undefined;
      } while (token && jobs.length <= flags.limit);
      const shown = jobs.slice(0, flags.limit);
      // A cut list says so, on stderr so that -o json stays one document.
      if (jobs.length > flags.limit) {
        process.stderr.write(`burst: showing the ${flags.sort} ${shown.length} job${shown.length === 1 ? "" : "s"}; there are more (raise --limit to see them)\n`);
      }
      // The API's object, its pages joined; `more` says whether the list was cut.
      if (output === "json") return printJson({ jobs: shown, more: jobs.length > flags.limit });
      process.stdout.write(table(["ID", "NAME", "POOL", "STATE", "EXIT", "COST", "CREATED", "IMAGE"],
        shown.map((j) => [j.id, j.name, j.pool, j.waiting ? `${j.state} (${j.waiting.reason})` : j.state, j.exitCode,
          `${usd(j.costUsd)}${j.costRunning ? " so far" : ""}`, when(j.createdAt), j.image])));
    });
}

export function statusCommand(): Command {
  return withCommon(new Command("status"))
    .alias("show")
    .description("show one job: state, times, cost and every attempt")
    .argument("<id>", "job id")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const job = await client.json<PublicJob>("GET", jobPath(id));
      if (output === "json") return printJson(job);
      const address = job.address?.ip ? `${job.address.ip}${job.address.ports?.length ? ` ports ${job.address.ports.join(", ")}` : ""}` : undefined;
      process.stdout.write(fields([
        ["id", job.id], ["name", job.name], ["state", job.state], ["reason", job.reason], ["waiting", job.waiting?.text], ["pool", job.pool],
        ["image", job.spec?.image], ["command", job.spec?.command?.map((c) => JSON.stringify(c)).join(" ")],
        ["labels", Object.entries(job.labels ?? {}).map(([k, v]) => (v ? `${k}=${v}` : k)).join(", ")],
        ["created", when(job.createdAt)], ["started", when(job.startedAt)], ["finished", when(job.finishedAt)],
        ["exit code", job.exitCode], ["cost", `${usd(job.costUsd)}${job.costRunning ? " so far" : ""}`], ["address", address],
        ["log", `${job.log.lines} line${job.log.lines === 1 ? "" : "s"}${job.log.truncated ? " (ACI dropped some output before Burst copied it)" : ""}`],
        ["errors", job.errors?.map((e) => `${e.field} ${e.rule}`).join("; ")],
        ["array", arrayLine(job.array)],
        ["failed", job.array?.failedIndexes.length ? job.array.failedIndexes.join(", ") : undefined],
        ["parent", job.parent ? `${job.parent.id} (index ${job.parent.index})` : undefined],
      ]));
      if (job.attempts.length > 0) {
        process.stdout.write(`\n${table(["ATTEMPT", "OUTCOME", "EXIT", "STARTED", "RAN", "COST", "REASON"], job.attempts.map((a) => [
          a.n, a.outcome ?? "(current)", a.exitCode, when(a.startedAt),
          a.startedAt && a.finishedAt ? seconds((Date.parse(a.finishedAt) - Date.parse(a.startedAt)) / 1000) : "", usd(a.costUsd), a.reason,
        ]))}`);
      }
    });
}

export function logsCommand(): Command {
  return withCommon(new Command("logs"))
    .description("print a job's output (every attempt, separated, unless --attempt)")
    .argument("<id>", "job id")
    .option("-f, --follow", "keep printing new output until the job ends")
    .option("-t, --timestamps", "prefix each line with the time ACI saw it")
    .option("--attempt <n>", "only this attempt", wholeNumber)
    .action(async (id: string, flags: { follow?: boolean; timestamps?: boolean; attempt?: number }, cmd: Command) => {
      const { client } = contextOf(cmd);
      const onText = (text: string) => void process.stdout.write(text);
      if (flags.follow) await followLog(client, id, { timestamps: flags.timestamps, attempt: flags.attempt, onText });
      else await readLog(client, id, { timestamps: flags.timestamps, attempt: flags.attempt, onText });
    });
}

export function cancelCommand(): Command {
  return withCommon(new Command("cancel"))
    .description("cancel jobs: waiting jobs at once, running ones are stopped and deleted")
    .argument("<ids...>", "job ids")
    .action(async (ids: string[], _flags: unknown, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const results: { id: string; state: string }[] = [];
      const failures: string[] = [];
      for (const id of ids) {
        try {
          results.push(await client.json<{ id: string; state: string }>("DELETE", jobPath(id)));
        } catch (err) {
          if (!(err instanceof CliError) || err.status === undefined) throw err;
          failures.push(err.message);
        }
      }
      if (output === "json") printJson(results);
      // A running job answers 202 in its current state: it is being stopped.
      else if (results.length > 0) process.stdout.write(table(["ID", "STATE"], results.map((r) => [r.id, FINAL_STATES.has(r.state as JobState) ? r.state : `${r.state} (canceling)`])));
      if (failures.length > 0) throw new CliError(failures.join("; "));
    });
}

export function retryCommand(): Command {
  return withCommon(new Command("retry"))
    .description("start a new attempt of only the failed children of a Failed array job")
    .argument("<id>", "the array's job id")
    .requiredOption("--failed", "retry the children that failed or timed out (the only kind of retry there is)")
    .action(async (id: string, _flags: { failed: boolean }, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const r = await client.json<{ id: string; state: string; retrying: number[] }>("POST", `${jobPath(id)}/retry?failed=true`);
      if (output === "json") printJson(r);
      else process.stdout.write(`${r.id} ${r.state}: retrying ${r.retrying.length} failed ${r.retrying.length === 1 ? "child" : "children"} (indexes ${r.retrying.join(", ")})\n`);
    });
}

/** An array parent's counts, e.g. "1000 children: 990 Succeeded, 10 Failed". */
function arrayLine(a: PublicJob["array"]): string | undefined {
  if (!a) return undefined;
  const parts = Object.entries(a.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k === "notCreated" ? "not made yet" : k}`);
  return `${a.count} children: ${parts.join(", ")}; ${a.billedSeconds} billed seconds`;
}
