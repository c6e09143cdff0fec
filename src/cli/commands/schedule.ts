/**
 * `burst schedule`: job templates that run on a cron. `create NAME --cron "…" SPECFILE`,
 * `ls`, `show NAME` (with the next five run times and the history), `suspend`, `resume`,
 * `delete` and `trigger` (run now). Each run is an ordinary job labelled
 * burst-schedule=NAME, so `burst ls --label burst-schedule=NAME` lists them.
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseSpecText } from "../../jobSpec.js";
import { CONCURRENCY_POLICIES } from "../../schedules/model.js";
import { CliError } from "../client.js";
import { contextOf, withCommon } from "../common.js";
import { fields, printJson, table, when } from "../output.js";

interface Summary {
  name: string;
  cron: string;
  timeZone: string;
  concurrency: string;
  suspend: boolean;
  nextRun: string | null;
  lastRun: { tick: string; outcome: string; jobId: string | null } | null;
}

interface View extends Summary {
  startingDeadlineSeconds: number | null;
  historyLimit: number;
  nextRuns: string[];
  history: { tick: string; outcome: string; jobId?: string; state?: string; reason?: string }[];
}

function positiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("must be a whole number ≥ 1.");
  return Number(value);
}

function readTemplate(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`,
    );
  }
  const parsed = parseSpecText(text);
  if (!parsed.ok) throw new CliError(`${file}: ${parsed.errors.map((e) => e.rule).join("; ")}`);
  if (parsed.values.length !== 1)
    throw new CliError(`${file} must hold one job spec, the schedule's template (it holds ${parsed.values.length})`);
  return parsed.values[0];
}

function printView(v: View): void {
  process.stdout.write(
    fields([
      ["name", v.name],
      ["cron", `${v.cron} (${v.timeZone})`],
      ["concurrency", v.concurrency],
      ["starting deadline", v.startingDeadlineSeconds === null ? "none" : `${v.startingDeadlineSeconds} s`],
      ["suspended", v.suspend ? "yes" : "no"],
      ["next runs", v.nextRuns.length ? v.nextRuns.join(", ") : "none (suspended)"],
    ]),
  );
  if (v.history.length === 0) return void process.stdout.write("no runs yet\n");
  process.stdout.write(
    `\n${table(
      ["TICK", "OUTCOME", "JOB", "STATE", "REASON"],
      v.history.map((h) => [h.tick, h.outcome, h.jobId, h.state, h.reason]),
    )}`,
  );
}

export function scheduleCommand(): Command {
  const schedule = new Command("schedule").description("job templates that run on a cron schedule");

  schedule.addCommand(
    withCommon(new Command("create"))
      .description("store a job spec file as a template that runs on a cron schedule")
      .argument("<name>", "the schedule's name: lowercase letters, digits and dashes")
      .argument("<specfile>", "one job spec (JSON or YAML; - for stdin)")
      .requiredOption("--cron <expr>", 'when: 5 fields ("*/5 * * * *") or 6 with seconds first')
      .option("--tz <zone>", "IANA time zone the cron is read in", "UTC")
      .addOption(
        new Option("--concurrency <policy>", "while a previous run is alive: start another, skip, or cancel it")
          .choices([...CONCURRENCY_POLICIES])
          .default("Allow"),
      )
      .option("--starting-deadline-seconds <n>", "a tick noticed later than this is not run (after an outage)", positiveInt)
      .option("--history-limit <n>", "run history entries kept (1-100)", positiveInt)
      .option("--suspend", "create it suspended")
      .action(
        async (
          name: string,
          specfile: string,
          flags: {
            cron: string;
            tz: string;
            concurrency: string;
            startingDeadlineSeconds?: number;
            historyLimit?: number;
            suspend?: boolean;
          },
          cmd: Command,
        ) => {
          const { client, output } = contextOf(cmd);
          const body = {
            name,
            cron: flags.cron,
            timeZone: flags.tz,
            concurrency: flags.concurrency,
            ...(flags.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: flags.startingDeadlineSeconds } : {}),
            ...(flags.historyLimit !== undefined ? { historyLimit: flags.historyLimit } : {}),
            ...(flags.suspend ? { suspend: true } : {}),
            job: readTemplate(specfile),
          };
          const v = await client.json<View>("POST", "schedules", { body: JSON.stringify(body), contentType: "application/json" });
          if (output === "json") return printJson(v);
          process.stdout.write(`schedule ${v.name} created; next run ${v.nextRun ?? "none (suspended)"}\n`);
        },
      ),
  );

  schedule.addCommand(
    withCommon(new Command("ls"))
      .description("every schedule, with its next run and last outcome")
      .action(async (_flags: unknown, cmd: Command) => {
        const { client, output } = contextOf(cmd);
        const r = await client.json<{ schedules: Summary[] }>("GET", "schedules");
        if (output === "json") return printJson(r);
        if (r.schedules.length === 0) return void process.stdout.write("no schedules\n");
        const rows = r.schedules.map((s) => [
          s.name,
          s.cron,
          s.timeZone,
          s.concurrency,
          s.suspend ? "suspended" : when(s.nextRun ?? undefined),
          s.lastRun ? `${s.lastRun.outcome}${s.lastRun.jobId ? ` ${s.lastRun.jobId}` : ""}` : "-",
        ]);
        process.stdout.write(table(["NAME", "CRON", "TZ", "CONCURRENCY", "NEXT", "LAST"], rows));
      }),
  );

  schedule.addCommand(
    withCommon(new Command("show"))
      .description("one schedule: its policies, next 5 run times and run history")
      .argument("<name>", "schedule name")
      .action(async (name: string, _flags: unknown, cmd: Command) => {
        const { client, output } = contextOf(cmd);
        const v = await client.json<View>("GET", `schedules/${encodeURIComponent(name)}`);
        if (output === "json") return printJson(v);
        printView(v);
      }),
  );

  for (const [verb, description] of [
    ["suspend", "stop firing until resumed (ticks meanwhile are never run)"],
    ["resume", "fire again from the next tick"],
  ] as const) {
    schedule.addCommand(
      withCommon(new Command(verb))
        .description(description)
        .argument("<name>", "schedule name")
        .action(async (name: string, _flags: unknown, cmd: Command) => {
          const { client, output } = contextOf(cmd);
          const s = await client.json<Summary>("POST", `schedules/${encodeURIComponent(name)}/${verb}`);
          if (output === "json") return printJson(s);
          process.stdout.write(`schedule ${s.name} ${s.suspend ? "suspended" : `resumed; next run ${s.nextRun}`}\n`);
        }),
    );
  }

  schedule.addCommand(
    withCommon(new Command("delete"))
      .description("delete the schedule (its runs stay, as ordinary jobs)")
      .argument("<name>", "schedule name")
      .action(async (name: string, _flags: unknown, cmd: Command) => {
        const { client, output } = contextOf(cmd);
        const r = await client.json<{ name: string }>("DELETE", `schedules/${encodeURIComponent(name)}`);
        if (output === "json") return printJson(r);
        process.stdout.write(`schedule ${r.name} deleted\n`);
      }),
  );

  schedule.addCommand(
    withCommon(new Command("trigger"))
      .description("run the schedule's job now, whatever its concurrency policy")
      .argument("<name>", "schedule name")
      .action(async (name: string, _flags: unknown, cmd: Command) => {
        const { client, output } = contextOf(cmd);
        const r = await client.json<{ name: string; jobId: string }>("POST", `schedules/${encodeURIComponent(name)}/trigger`);
        if (output === "json") return printJson(r);
        process.stdout.write(`${r.jobId}\n`);
      }),
  );
  return schedule;
}
