/**
 * Runs the local Functions host: `functions-local-host [--port N] [--app-dir DIR]`.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { LocalHost } from "./localHost.js";
import { loadLocalSettings, localKeys } from "./settings.js";

const HELP = `Usage: functions-local-host [options]

Runs a Node.js v4-model Functions app (its package.json "main") on a local Functions host.

Options:
  --port N        HTTP port (default: $BURST_API_PORT or 7071; 0 picks a free one)
  --app-dir DIR   the function app folder holding host.json and package.json (default: .)
  -h, --help      show this help

Settings come from the environment and local.settings.json (Values). Keys:
  AzureWebJobsStorage   storage connection string (required), or with an identity:
                        AzureWebJobsStorage__accountName (or __queueServiceUri and
                        __blobServiceUri), __credential=managedidentity, __clientId
  BURST_API_KEY         key for authLevel "function" routes (default burst-local-key)
  BURST_MASTER_KEY      master key (default: BURST_API_KEY)
  BURST_HOST_ID         host id for singleton locks (default burst-local)
  BURST_LOCAL_QUEUE_LEASE_SECONDS  lease on fetched queue messages (default 600, as in Azure)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "app-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const appDir = path.resolve(values["app-dir"] ?? ".");
  loadLocalSettings(appDir);
  const portText = values.port ?? process.env.BURST_API_PORT ?? "7071";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port number, got ${JSON.stringify(portText)}`);
  const leaseText = process.env.BURST_LOCAL_QUEUE_LEASE_SECONDS ?? "600";
  const lease = Number(leaseText);
  if (!(lease >= 1)) throw new Error(`BURST_LOCAL_QUEUE_LEASE_SECONDS must be a number of seconds ≥ 1, got ${JSON.stringify(leaseText)}`);

  const host = new LocalHost({
    appDir,
    port,
    keys: localKeys(),
    hostId: process.env.BURST_HOST_ID || "burst-local",
    queueLeaseMs: lease * 1000,
  });
  await host.start();
  process.stdout.write(`functions-local-host listening on ${host.url}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`functions-local-host: ${signal}, finishing running invocations\n`);
    // Invocations are crash-safe, so a bounded wait is enough; their messages come back if cut short.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await host.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Started by a supervisor (npm start, tests, chaos): don't outlive it if it dies without stopping us.
  if (process.env.BURST_EXIT_WITH_PARENT) {
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) void stop("supervisor exited"); }, 1000).unref();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`functions-local-host: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
