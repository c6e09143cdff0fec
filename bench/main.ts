/**
 * `npm run bench`: Burst vs a naive dispatcher vs the ideal bound on one seeded workload
 * (or, with --scale, Burst alone at growing N; with --regions, one pool over 10 placements). See bench/README.md.
 */
import { runComparison } from "./comparison.js";
import { HELP, parseOptions, UsageError } from "./options.js";
import { printBudgetBlocked, printComparison, printCost, printScale, writeBudgetBlocked, writeComparison, writeCost, writeScale } from "./report.js";
import { runCostModes } from "./costModes.js";
import { runScale } from "./scale.js";
import { printArraySubmit, runArraySubmit } from "./arraySubmit.js";
import { runBudgetBlocked } from "./budgetBlocked.js";
import { runRegions } from "./regions.js";
import { printRegions, writeRegions } from "./regionsReport.js";

async function main(): Promise<void> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (options === "help") {
    process.stdout.write(HELP);
    return;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (options.cost) {
    const report = await runCostModes(options, log);
    process.stdout.write(`${printCost(report)}\n`);
    if (options.write) log(`wrote ${writeCost(report, options.outDir)}`);
    return;
  }
  if (options.budgetBlocked) {
    const report = await runBudgetBlocked(options, log);
    process.stdout.write(`${printBudgetBlocked(report)}\n`);
    if (options.write) log(`wrote ${writeBudgetBlocked(report, options.outDir)}`);
    return;
  }
  if (options.array) {
    const report = await runArraySubmit(options, log);
    process.stdout.write(`${printArraySubmit(report)}\n`);
    return;
  }
  if (options.regions) {
    const report = await runRegions(options, log);
    process.stdout.write(`${printRegions(report)}\n`);
    if (options.write) log(`wrote ${writeRegions(report, options.outDir)}`);
    return;
  }
  if (options.scale) {
    const report = await runScale(options, log);
    process.stdout.write(`${printScale(report)}\n`);
    if (options.write) log(`wrote ${writeScale(report, options.outDir)}`);
    return;
  }
  const report = await runComparison(options, log);
  process.stdout.write(`${printComparison(report)}\n`);
  if (options.write) {
    const files = writeComparison(report, options.outDir);
    log(`wrote ${files.json} and ${files.svg}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
