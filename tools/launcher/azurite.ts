/**
 * Runs Azurite, Microsoft's Storage emulator, as a child process. Used by `npm start`,
 * the tests (on free ports, in memory) and the chaos suite (with persistence, so it
 * can be restarted mid-run).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { waitForPort } from "./net.js";

const require = createRequire(import.meta.url);

/** The well-known development account key Azurite ships with; it is public by design. */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface AzuriteOptions {
  ports: AzuritePorts;
  host?: string;
  /** Folder for persistent data. Without it Azurite keeps everything in memory. */
  location?: string;
  /** Where Azurite's own output goes; by default it is discarded. */
  stdio?: "ignore" | "inherit";
  /**
   * In its own process group, so a terminal's Ctrl-C reaches only the supervisor, which
   * then stops everything in order (the host first, Storage last).
   */
  detached?: boolean;
  /** More Azurite flags, e.g. `--oauth basic --cert … --key …` for HTTPS with bearer tokens. */
  extraArgs?: string[];
}

export interface RunningAzurite {
  connectionString: string;
  ports: AzuritePorts;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function connectionStringFor(ports: AzuritePorts, host = "127.0.0.1"): string {
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT}`,
  ].join(";");
}

export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  const host = options.host ?? "127.0.0.1";
  const args = [
    require.resolve("azurite/dist/src/azurite.js"),
    "--blobHost", host, "--blobPort", String(options.ports.blob),
    "--queueHost", host, "--queuePort", String(options.ports.queue),
    "--tableHost", host, "--tablePort", String(options.ports.table),
    // Telemetry would try to reach the internet; the API version check would refuse
    // SDKs newer than this Azurite release.
    "--disableTelemetry", "--skipApiVersionCheck", "--silent",
  ];
  args.push(...(options.extraArgs ?? []));
  if (options.location) args.push("--location", options.location);
  else args.push("--inMemoryPersistence");

  const child = spawn(process.execPath, args, { stdio: options.stdio ?? "ignore", detached: options.detached ?? false });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      Promise.all(Object.values(options.ports).map((p) => waitForPort(p, host, 30_000))),
      exited.then(() => {
        throw new Error(`Azurite exited during start-up (exit code ${child.exitCode}); is a port already in use?`);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    connectionString: connectionStringFor(options.ports, host),
    ports: options.ports,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
