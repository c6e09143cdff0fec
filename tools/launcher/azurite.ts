/**
 * Runs Azurite, Microsoft's Storage emulator, as a child process. Used by `npm start`,
 * the tests (on free ports, in memory) and the chaos suite (with persistence, so it
 * can be restarted mid-run).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";

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
  /**
   * Fixed ports (`npm start`, or a restart that must come back where it was). Without
   * them Azurite binds port 0 and reports the ports it got: asking the OS for a free port
   * and passing it on leaves a gap in which another process can take it.
   */
  ports?: AzuritePorts;
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
  /** Flags for Azurite's Node.js itself, e.g. `--cpu-prof` (the benchmark's `--azurite-cpu-prof`). */
  nodeArgs?: string[];
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

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^\s]*:(\d+)/g;

export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  const host = options.host ?? "127.0.0.1";
  const asked = options.ports ?? { blob: 0, queue: 0, table: 0 };
  const args = [
    ...(options.nodeArgs ?? []),
    require.resolve("azurite/dist/src/azurite.js"),
    "--blobHost", host, "--blobPort", String(asked.blob),
    "--queueHost", host, "--queuePort", String(asked.queue),
    "--tableHost", host, "--tablePort", String(asked.table),
    // Telemetry would try to reach the internet; the API version check would refuse
    // SDKs newer than this Azurite release.
    "--disableTelemetry", "--skipApiVersionCheck", "--silent",
  ];
  args.push(...(options.extraArgs ?? []));
  if (options.location) args.push("--location", options.location);
  else args.push("--inMemoryPersistence");

  // stdout is always read: it is where Azurite says which ports it listens on.
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", options.stdio ?? "ignore"],
    detached: options.detached ?? false,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    if (out.length < 20_000) out += d.toString();
    if (options.stdio === "inherit") process.stdout.write(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const listening = new Promise<AzuritePorts>((resolve) => {
    const check = () => {
      const got: Partial<Record<string, number>> = {};
      for (const m of out.matchAll(LISTENING)) got[m[1]!.toLowerCase()] = Number(m[2]);
      if (got.blob && got.queue && got.table) {
        child.stdout!.off("data", check);
        resolve({ blob: got.blob, queue: got.queue, table: got.table });
      }
    };
    child.stdout!.on("data", check);
  });
  let ports: AzuritePorts;
  let timer: NodeJS.Timeout | undefined;
  try {
    ports = await Promise.race([
      listening,
      exited.then((): never => {
        throw new Error(`Azurite exited during start-up (exit code ${child.exitCode}); is a port already in use?\n${out}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Azurite did not listen within 30 s:\n${out}`)), 30_000);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    connectionString: connectionStringFor(ports, host),
    ports,
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
