/**
 * `burst submit FILE...`: job specs from JSON or YAML files (one job, a list, or
 * several YAML documents per file; `-` reads stdin). Every spec of every file is
 * checked here first, so a typo in the tenth file submits nothing; then they go in
 * batches the API accepts, with progress on a terminal.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { parseSpecText, validateSpec } from "../../jobSpec.js";
import { MAX_SPECS_PER_REQUEST } from "../../api/body.js";
import { CliError } from "../client.js";
import { contextOf, withCommon } from "../common.js";
import { Progress, printJson, table } from "../output.js";

/** The API's per-request limit. */
const BATCH = MAX_SPECS_PER_REQUEST;

interface Item {
  file: string;
  index: number;
  value: unknown;
}

function readSpecs(files: string[]): Item[] {
  const items: Item[] = [];
  const errors: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    const parsed = parseSpecText(text);
    if (!parsed.ok) {
      errors.push(...parsed.errors.map((e) => `${file}: ${e.rule}`));
      continue;
    }
    parsed.values.forEach((value, index) => {
      const checked = validateSpec(value);
      if (!checked.ok) errors.push(...checked.errors.map((e) => `${file}${parsed.values.length > 1 ? `[${index}]` : ""}: ${e.field} ${e.rule}`));
      items.push({ file, index, value });
    });
  }
  if (errors.length > 0) throw new CliError(`nothing submitted: ${errors.join("; ")}`);
  if (items.length === 0) throw new CliError(`nothing submitted: ${files.join(", ")} hold no job specs`);
  return items;
}

/** Maps the API's `[i].field` errors for a batch back to file and index. */
function batchError(err: unknown, batch: Item[], submitted: number): Error {
  if (!(err instanceof CliError)) return err as Error;
  const prefix = submitted > 0 ? `${submitted} jobs were submitted before this batch failed: ` : "nothing submitted: ";
  const message = err.message.replace(/\[(\d+)\](\.?)/g, (m, i: string, dot: string) => {
    const item = batch[Number(i)];
    return item ? `${item.file}[${item.index}]${dot ? " " : ""}` : m;
  });
  return new CliError(`${prefix}${message}`, err.exitCode, err.status);
}

export function submitCommand(): Command {
  return withCommon(new Command("submit"))
    .description("submit jobs from JSON or YAML files (one or many jobs per file; - for stdin)")
    .argument("<files...>", "spec files")
    .addHelpText("after", `
Examples:
  burst submit job.yaml
  burst submit jobs/*.json
  cat batch.yaml | burst submit -

A YAML file may hold one spec, a list of specs, or several documents separated by ---.`)
    .action(async (files: string[], _flags: unknown, cmd: Command) => {
      const { client, output } = contextOf(cmd);
      const items = readSpecs(files);
      const progress = new Progress();
      const results: { id: string; state: string; file: string; index: number; name?: string }[] = [];
      for (let start = 0; start < items.length; start += BATCH) {
        const batch = items.slice(start, start + BATCH);
        if (items.length > 1) progress.update(`submitting ${start + batch.length}/${items.length} jobs…`);
        let answer: { id: string; state: string }[];
        try {
          answer = await client.json("POST", "jobs", { body: JSON.stringify(batch.map((b) => b.value)), contentType: "application/json" });
        } catch (err) {
          progress.clear();
          if (results.length > 0) printResults(results, output);
          throw batchError(err, batch, results.length);
        }
        answer.forEach((a, i) => {
          const name = (batch[i]!.value as { name?: unknown }).name;
          results.push({ ...a, file: batch[i]!.file, index: batch[i]!.index, name: typeof name === "string" ? name : undefined });
        });
      }
      progress.clear();
      printResults(results, output);
    });
}

function printResults(results: { id: string; state: string; file: string; index: number; name?: string }[], output: string): void {
  if (output === "json") printJson(results);
  else process.stdout.write(table(["ID", "STATE", "NAME", "FROM"], results.map((r) => [r.id, r.state, r.name, `${r.file}[${r.index}]`])));
}
