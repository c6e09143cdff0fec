/** `burst pools` and `burst cost`. */
import { Command, Option } from "commander";
import { CliError } from "../client.js";
import { contextOf, withCommon } from "../common.js";
import { printJson, seconds, signedUsd, table, usd } from "../output.js";

interface Window {
  window: string;
  limitUsd: number | null;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number | null;
}

interface Pool {
  name: string;
  maxConcurrency: number;
  slotsInUse: number;
  waiting: number;
  maxWaiting: number;
  budget: { day: Window; month: Window };
  placements: PlacementStatus[];
}

interface PlacementStatus {
  placement: string;
  groups: { inUse: number; limit: number };
  cores: { inUse: number; limit: number };
  createsLeft: { per5Min: number; perHour: number };
  cooldown: { until: string; reason: string; failures: number } | null;
}

const money = (w: Window) => `${usd(w.spentUsd)} + ${usd(w.reservedUsd)}${w.limitUsd === null ? " (no limit)" : ` of ${usd(w.limitUsd)} (${usd(w.remainingUsd)} left)`}`;

export function poolsCommand(): Command {
  return withCommon(new Command("pools"))
    .description("show each pool's slots in use, waiting line and budget (spent + reserved of limit) today and this month, and per placement its groups and cores in use of its quota, creates left and cooldown")
    .action(async (_flags: unknown, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const answer = await client.json<{ pools: Pool[] }>("GET", "pools");
      if (output === "json") return printJson(answer);
      const { pools } = answer;
      process.stdout.write(table(["POOL", "SLOTS", "WAITING", "TODAY (spent + reserved)", "THIS MONTH (spent + reserved)"], pools.map((p) => [
        p.name, `${p.slotsInUse}/${p.maxConcurrency}`, `${p.waiting}/${p.maxWaiting}`, money(p.budget.day), money(p.budget.month),
      ])));
      // Room is per subscription and region, shared by every pool there: the numbers count them all.
      const rows = pools.flatMap((p) => p.placements.map((x) => [
        p.name, x.placement, `${x.groups.inUse}/${x.groups.limit}`, `${x.cores.inUse}/${x.cores.limit}`, `${x.createsLeft.per5Min} / ${x.createsLeft.perHour}`,
        x.cooldown ? `until ${x.cooldown.until} (${x.cooldown.reason}, ${x.cooldown.failures} in a row)` : "-",
      ]));
      process.stdout.write(`\n${table(["POOL", "PLACEMENT", "GROUPS", "CORES", "CREATES LEFT (5 MIN / HOUR)", "COOLDOWN"], rows)}`);
    });
}

interface CostSum {
  costUsd: number;
  billedUsd: number | null;
  differenceUsd: number | null;
  billedAttempts: number;
  billedSeconds: number;
  jobs: number;
  attempts: number;
}

interface CostRow extends CostSum {
  [key: string]: string | number | null;
}

interface CostAnswer {
  by: "pool" | "day" | "job";
  rows: CostRow[];
  total: CostSum;
}

/** The Azure bill, and how much of it is in: "$0.41 (120/123)" while some attempts are not billed yet. */
const bill = (s: CostSum) => (s.billedUsd === null ? "not yet" : `${usd(s.billedUsd)}${s.billedAttempts < s.attempts ? ` (${s.billedAttempts}/${s.attempts})` : ""}`);
const sums = (s: CostSum) => [usd(s.costUsd), bill(s), s.differenceUsd === null ? "" : signedUsd(s.differenceUsd), seconds(s.billedSeconds), s.jobs, s.attempts];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function costCommand(): Command {
  return withCommon(new Command("cost"))
    .description("what jobs cost, from the ledger, by pool, day or job, with totals")
    .option("--since <date>", "from this UTC day (YYYY-MM-DD), inclusive")
    .option("--until <date>", "to this UTC day (YYYY-MM-DD), inclusive")
    .option("--pool <name>", "only this pool")
    .addOption(new Option("--by <grouping>", "one row per pool, day or job").choices(["pool", "day", "job"]).default("pool"))
    .addHelpText("after", `
Examples:
  burst cost
  burst cost --by day --since 2026-01-01
  burst cost --by job --pool default -o json`)
    .action(async (flags: { since?: string; until?: string; pool?: string; by: string }, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      for (const k of ["since", "until"] as const) {
        if (flags[k] !== undefined && !DATE.test(flags[k]!)) throw new CliError(`--${k} must be a UTC date, YYYY-MM-DD`);
      }
      const answer = await client.json<CostAnswer>("GET", "costs", { query: { since: flags.since, until: flags.until, pool: flags.pool, by: flags.by } });
      if (output === "json") return printJson(answer);
      const key = answer.by.toUpperCase();
      const extra = answer.by === "job" ? ["POOL"] : [];
      const rows = answer.rows.map((r) => [r[answer.by], ...(answer.by === "job" ? [r.pool] : []), ...sums(r)]);
      rows.push(["TOTAL", ...extra.map(() => ""), ...sums(answer.total)]);
      process.stdout.write(table([key, ...extra, "ESTIMATE", "AZURE BILL", "DIFFERENCE", "RUN TIME", "JOBS", "ATTEMPTS"], rows));
    });
}
