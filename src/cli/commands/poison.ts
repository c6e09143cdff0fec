/**
 * `burst poison`: messages that kept failing, parked in each queue's poison queue, where
 * they expire after 7 days. See them, send them back to their queue once the cause is
 * fixed, or throw them away.
 */
import { Command } from "commander";
import { BURST_QUEUES } from "../../store/poison.js";
import type { PoisonMessage } from "../../store/poison.js";
import { CliError } from "../client.js";
import { contextOf, wholeNumber, withCommon } from "../common.js";
import { printJson, table, when } from "../output.js";

const queueArg = (q: string) => {
  if (!(BURST_QUEUES as readonly string[]).includes(q)) throw new CliError(`the queue must be one of ${BURST_QUEUES.join(", ")} (got ${JSON.stringify(q)})`);
  return q;
};

/** `IDS...` or `--all`, never both and never neither. */
function selection(ids: string[], all: boolean | undefined): { ids: string[] } | { all: true } {
  if (all && ids.length) throw new CliError("give message ids or --all, not both");
  if (!all && !ids.length) throw new CliError("give the message ids (`burst poison show QUEUE` lists them) or --all");
  return all ? { all: true } : { ids };
}

export function poisonCommand(): Command {
  const poison = new Command("poison").description("see, send back or throw away messages that kept failing (parked in poison queues)");

  poison.addCommand(withCommon(new Command("ls"))
    .description("how many messages wait in each queue's poison queue")
    .action(async (_flags: unknown, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const r = await client.json<{ queues: { queue: string; depth: number }[] }>("GET", "poison");
      if (output === "json") return printJson(r);
      process.stdout.write(table(["QUEUE", "POISONED"], r.queues.map((q) => [q.queue, q.depth])));
    }));

  poison.addCommand(withCommon(new Command("show"))
    .description("the oldest messages of one queue's poison queue (up to 32), decoded")
    .argument("<queue>", `one of ${BURST_QUEUES.join(", ")}`, queueArg)
    .option("--limit <n>", "at most this many (1-32)", wholeNumber, 32)
    .action(async (queue: string, flags: { limit: number }, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const r = await client.json<{ messages: PoisonMessage[] }>("GET", `poison/${queue}`, { query: { limit: flags.limit } });
      if (output === "json") return printJson(r);
      if (r.messages.length === 0) return void process.stdout.write(`no messages wait in the ${queue} poison queue\n`);
      process.stdout.write(table(["ID", "PARKED", "MESSAGE"], r.messages.map((m) => [m.id, when(m.insertedOn), m.text.replace(/\s+/g, " ").slice(0, 120)])));
    }));

  for (const [name, verb, description] of [
    ["redrive", "redriven", "send messages back to their queue, as they were received, once the cause is fixed"],
    ["purge", "purged", "throw messages away for good"],
  ] as const) {
    poison.addCommand(withCommon(new Command(name))
      .description(description)
      .argument("<queue>", `one of ${BURST_QUEUES.join(", ")}`, queueArg)
      .argument("[ids...]", "message ids, as `burst poison show` lists them")
      .option("--all", "every message of that poison queue")
      .action(async (queue: string, ids: string[], flags: { all?: boolean }, cmd: Command) => {
        const { client, output } = contextOf(cmd);
        const body = JSON.stringify(selection(ids, flags.all));
        const r = await client.json<Record<string, string[]>>("POST", `poison/${queue}/${name}`, { body, contentType: "application/json" });
        if (output === "json") return printJson(r);
        process.stdout.write(`${r[verb]!.length} message${r[verb]!.length === 1 ? "" : "s"} ${verb}${r.missing!.length ? `; not found: ${r.missing!.join(", ")}` : ""}\n`);
        if (r.missing!.length) process.exitCode = 1;
      }));
  }
  return poison;
}
