/**
 * Standalone ACI emulator: `npm run emulator -- --runtime sim --port 8780`.
 * Prints its URL, and on SIGINT/SIGTERM kills every container's processes and deletes
 * every group before exiting — or, with --state-file, saves the groups there instead.
 */
import { CliError, HELP, parseCli } from "./cli.js";
import { ConfigError } from "./config.js";
import { startEmulator, StateFileError } from "./index.js";

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`aci-emulator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  let emulator;
  try {
    emulator = await startEmulator(parsed.options);
  } catch (err) {
    const reason = err instanceof ConfigError || err instanceof StateFileError ? err.message : (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? `port ${parsed.options.port} is already in use` : String(err);
    process.stderr.write(`aci-emulator: ${reason}\n`);
    process.exit(1);
  }
  process.stdout.write(`ACI emulator (api-version 2023-05-01, runtime ${emulator.runtime}) listening on ${emulator.url}\n`);
  const r = emulator.restored;
  if (r) {
    process.stdout.write(`aci-emulator: restored ${r.groups} container group(s) from ${r.file}` +
      (r.ended ? `; ${r.ended} of them ran when the emulator stopped and now show Terminated at ${r.savedAt}, billed up to then, not restarted\n` : "\n"));
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const keep = parsed.options.stateFile;
    process.stdout.write(keep
      ? `aci-emulator: ${signal}, saving container groups to ${keep} (running containers stop now and will not be restarted)\n`
      : `aci-emulator: ${signal}, deleting all container groups\n`);
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`aci-emulator: error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Started by a supervisor (npm start): don't outlive it if it dies without stopping us.
  if (process.env.BURST_EXIT_WITH_PARENT) {
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop("supervisor exited"); }, 1000).unref();
  }
}

void main();
