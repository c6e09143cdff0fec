/**
 * The baseline dispatcher as its own process, so its CPU time and memory are measured
 * apart from the harness and the emulator. Input and output are JSON files; it prints
 * "ready" and starts on the first line of stdin, so the harness can start it at the same
 * moment as Burst's submission.
 *
 *   node dist/bench/baselineMain.js <input.json> <output.json>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createAciClient } from "../src/aci/client.js";
import { runNaiveDispatcher, type BaselineInput, type BaselineOutput } from "./baseline.js";
import { runKedaLike, type KedaSettings } from "./keda.js";
import { readProcUsage } from "./procStats.js";

async function main(): Promise<void> {
  const [inputPath, outputPath] = process.argv.slice(2);
  if (!inputPath || !outputPath) throw new Error("usage: baselineMain.js <input.json> <output.json>");
  const input = JSON.parse(readFileSync(inputPath, "utf8")) as BaselineInput;
  const client = createAciClient({ subscriptionId: input.subscriptionId, endpoint: input.endpoint });
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once("line", () => resolve()));
  process.stdout.write("ready\n");
  await go;
  lines.close();
  const usageAtStart = readProcUsage("self");
  const startedAt = Date.now();
  const run = input.kind === "keda" ? await runKedaLike(client, input.jobs, input.settings as KedaSettings) : { results: await runNaiveDispatcher(client, input.jobs, input.settings) };
  const endedAt = Date.now();
  const output: BaselineOutput = { startedAt, endedAt, ...run, usageAtStart, usageAtEnd: readProcUsage("self") };
  writeFileSync(outputPath, JSON.stringify(output));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`baseline: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
