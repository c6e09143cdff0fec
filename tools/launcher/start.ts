#!/usr/bin/env node
/**
 * `npm start`: the whole scheduler on one machine — Azurite (data in .burst/azurite),
 * the ACI emulator (process runtime; container groups kept in .burst/emulator-state.json)
 * and the local Functions host with the HTTP API — with one Ctrl-C to stop everything.
 * Both keep their state, so a restart finds the jobs and their container groups as they
 * were left: what ran at the stop shows as stopped at that moment, billed up to it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { parseArgs } from "node:util";
import { startAzurite, type RunningAzurite } from "./azurite.js";
import { portIsFree, waitUntil } from "./net.js";
import { randomBytes } from "node:crypto";
import { checkAppSettings } from "../../src/config.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import { loadLocalSettings, DEFAULT_LOCAL_API_KEY } from "@burst/functions-local-host";
import { APP_MAX_REQUEST_BODY_BYTES } from "../../src/appNames.js";
import { ROOT, dataDir as localDataDir, localPorts, localSecretKey, newEmulatorToken, removeHostSettings, writeHostSettings, writeLocalEnv } from "./localEnv.js";

const HELP = `Usage: npm start [-- --help]

Starts Burst locally: Azurite, the ACI emulator and the local Functions host.

Environment (or local.settings.json Values):
  BURST_API_PORT              HTTP API port (7071)
  BURST_EMULATOR_PORT         ACI emulator port (4280)
  BURST_EMULATOR_RUNTIME      process | sim (process)
  BURST_AZURITE_BLOB_PORT     Azurite blob port (10000)
  BURST_AZURITE_QUEUE_PORT    Azurite queue port (10001)
  BURST_AZURITE_TABLE_PORT    Azurite table port (10002)
  BURST_DATA_DIR              where local state lives (.burst)
  BURST_API_KEY               API key (${DEFAULT_LOCAL_API_KEY})
  BURST_POOLS / BURST_POOLS_FILE  pool configuration (a default pool otherwise)
`;

function child(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // Its own process group: Ctrl-C reaches only this supervisor, which stops the children in
  // order (a host whose emulator and Storage died first waits out its retries against them).
  const c = spawn(process.execPath, [script, ...args], { env: { ...env, BURST_EXIT_WITH_PARENT: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (line: string) => `${name.padEnd(8)}| ${line}\n`;
  for (const stream of [c.stdout!, c.stderr!]) {
    let buf = "";
    stream.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) process.stdout.write(prefix(l));
    });
  }
  return c;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  loadLocalSettings(ROOT);
  const { api: apiPort, emulator: emulatorPort, azurite: ports } = localPorts();
  const runtime = process.env.BURST_EMULATOR_RUNTIME || "process";
  if (runtime !== "process" && runtime !== "sim") throw new Error(`BURST_EMULATOR_RUNTIME must be "process" or "sim", got ${JSON.stringify(runtime)}`);
  // Every setting first: a bad one stops here, before anything starts (the host would refuse it anyway).
  const loaded = checkAppSettings({ ...process.env, AzureWebJobsStorage: process.env.AzureWebJobsStorage || "UseDevelopmentStorage=true" }, loadGitHubSettings);
  // Every port next: something else on one of them would answer in Burst's place.
  const wanted: [number, string, string][] = [
    [apiPort, "the HTTP API", "BURST_API_PORT"], [emulatorPort, "the ACI emulator", "BURST_EMULATOR_PORT"],
    [ports.blob, "Azurite's blob service", "BURST_AZURITE_BLOB_PORT"], [ports.queue, "Azurite's queue service", "BURST_AZURITE_QUEUE_PORT"], [ports.table, "Azurite's table service", "BURST_AZURITE_TABLE_PORT"],
  ];
  for (const [port, what, setting] of wanted) {
    if (!(await portIsFree(port))) throw new Error(`port ${port}, for ${what}, is already in use (another npm start?): stop what uses it, or set ${setting}=<another port>`);
  }
  const dataDir = localDataDir();
  mkdirSync(path.join(dataDir, "azurite"), { recursive: true });
  const instance = randomBytes(8).toString("hex");

  const children: ChildProcess[] = [];
  let azurite: RunningAzurite | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping Burst…\n");
    // The host first (it may still be talking to the others), then the emulator, then Azurite.
    for (const c of [...children].reverse()) {
      await new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill("SIGTERM");
        setTimeout(() => c.kill("SIGKILL"), 15_000).unref();
      });
    }
    await azurite?.stop();
    removeHostSettings(dataDir);
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  process.stdout.write(`starting Azurite (blob ${ports.blob}, queue ${ports.queue}, table ${ports.table}; data in ${path.relative(ROOT, dataDir) || "."}/azurite)…\n`);
  azurite = await startAzurite({ ports, location: path.join(dataDir, "azurite"), detached: true }).catch((err: Error) => {
    throw new Error(`${err.message} (ports come from BURST_AZURITE_BLOB_PORT, BURST_AZURITE_QUEUE_PORT, BURST_AZURITE_TABLE_PORT)`);
  });

  // Kept across restarts: Burst's jobs live on in Azurite, and without their groups it could only guess when they stopped.
  const stateFile = path.join(dataDir, "emulator-state.json");
  process.stdout.write(`starting the ACI emulator (${runtime} runtime) on port ${emulatorPort}; container groups kept in ${path.relative(ROOT, stateFile)}…\n`);
  // A fresh token per run: the process runtime runs commands as you, so only this stack may call it.
  const emulatorToken = newEmulatorToken(dataDir);
  const emulator = child("aci", fileURLToPath(import.meta.resolve("@burst/aci-emulator/main")), ["--port", String(emulatorPort), "--runtime", runtime, "--state-file", stateFile], { ...process.env, ACI_EMULATOR_TOKEN: emulatorToken });
  children.push(emulator);
  // Ready when it answers with this run's token: anything else on the port would not know it.
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${emulatorPort}/_emulator`, { headers: { authorization: `Bearer ${emulatorToken}` } })).ok, 20_000, `the ACI emulator did not answer on port ${emulatorPort} within 20 s`);

  const env = {
    ...process.env,
    AzureWebJobsStorage: process.env.AzureWebJobsStorage || azurite.connectionString,
    BURST_ARM_ENDPOINT: process.env.BURST_ARM_ENDPOINT || `http://127.0.0.1:${emulatorPort}`,
    BURST_SECRET_KEY: process.env.BURST_SECRET_KEY || localSecretKey(dataDir),
    BURST_EMULATOR_TOKEN: emulatorToken,
    // The emulator reports bills within seconds, not Azure's hours: read them often, final soon.
    BURST_BILL_CHECK_SECONDS: process.env.BURST_BILL_CHECK_SECONDS || "30",
    BURST_BILL_FINAL_SECONDS: process.env.BURST_BILL_FINAL_SECONDS || "120",
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT || String(APP_MAX_REQUEST_BODY_BYTES),
    BURST_INSTANCE_ID: instance,
  };
  process.stdout.write(`starting the Functions host on port ${apiPort}…\n`);
  const host = child("host", fileURLToPath(import.meta.resolve("@burst/functions-local-host/main")), ["--port", String(apiPort)], env);
  children.push(host);
  // Ready when /api/health names this run's instance, not merely when a port accepts connections.
  await waitUntil(async () => {
    const r = await fetch(`http://127.0.0.1:${apiPort}/api/health`);
    return r.ok && ((await r.json()) as { instance?: string }).instance === instance;
  }, 60_000, `the Functions host did not answer on port ${apiPort} within 60 s (see its output above)`);
  // For admin commands run with --local (npm run reconcile -- --local): the same settings as the host.
  writeHostSettings(dataDir, env);
  writeLocalEnv(dataDir, { AzureWebJobsStorage: env.AzureWebJobsStorage, BURST_URL: `http://localhost:${apiPort}`, BURST_API_KEY: process.env.BURST_API_KEY || DEFAULT_LOCAL_API_KEY });

  for (const c of children) {
    c.once("exit", (code, signal) => {
      if (stopping) return;
      process.stdout.write(`a Burst process exited unexpectedly (${code ?? signal}); stopping the rest\n`);
      void stopAll(1);
    });
  }
  const key = process.env.BURST_API_KEY || DEFAULT_LOCAL_API_KEY;
  process.stdout.write(`
Burst is running.
  HTTP API        http://localhost:${apiPort}/api   (key: ${key === DEFAULT_LOCAL_API_KEY ? `${key}, the local default` : "from BURST_API_KEY"})
  Dashboard       http://localhost:${apiPort}/api/ui   (asks for that key once)
  ACI emulator    http://127.0.0.1:${emulatorPort}   (${runtime} runtime; containers run as local processes, without isolation)
  Storage         AzureWebJobsStorage="${env.AzureWebJobsStorage}"
                  (\`source ${path.relative(ROOT, dataDir) || "."}/env\` sets it, BURST_URL and BURST_API_KEY in your shell)
  Settings        ${loaded}

Submit a first job:
  npx burst run alpine -- sh -c 'echo hello from Burst'
or
  curl -s -X POST http://localhost:${apiPort}/api/jobs -H 'x-functions-key: ${key === DEFAULT_LOCAL_API_KEY ? key : "$BURST_API_KEY"}' \\
       -H 'content-type: application/json' -d '{"image":"alpine","command":["sh","-c","echo hello"],"timeoutSeconds":60}'

Press Ctrl-C to stop.
`);
}

main().catch((err: unknown) => {
  process.stderr.write(`burst: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
