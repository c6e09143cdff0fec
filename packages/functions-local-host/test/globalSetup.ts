/**
 * One in-memory Azurite (Microsoft's Storage emulator, from npm) on free ports for the
 * whole run; each test uses its own queue names.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import type { TestProject } from "vitest/node";

const ACCOUNT = "devstoreaccount1";
// Azurite's well-known development key: public by design.
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

let azurite: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function setup(project: TestProject): Promise<void> {
  const blob = await freePort();
  const queue = await freePort();
  const script = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const args = [
    "--blobPort",
    String(blob),
    "--queuePort",
    String(queue),
    "--tablePort",
    String(await freePort()),
    "--inMemoryPersistence",
    "--disableTelemetry",
    "--skipApiVersionCheck",
  ];
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  azurite = child;
  // Azurite prints one "… successfully listening at" line per service once it accepts connections.
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.once("exit", (code) => reject(new Error(`Azurite exited during start-up (${code}):\n${out}`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if ((out.match(/successfully listening at/g) ?? []).length >= 3) resolve();
    });
  });
  child.stdout!.resume();
  project.provide(
    "storageConnectionString",
    [
      "DefaultEndpointsProtocol=http",
      `AccountName=${ACCOUNT}`,
      `AccountKey=${KEY}`,
      `BlobEndpoint=http://127.0.0.1:${blob}/${ACCOUNT}`,
      `QueueEndpoint=http://127.0.0.1:${queue}/${ACCOUNT}`,
    ].join(";"),
  );
}

export async function teardown(): Promise<void> {
  if (!azurite || azurite.exitCode !== null) return;
  const exited = new Promise((resolve) => azurite!.once("exit", resolve));
  azurite.kill("SIGTERM");
  await exited;
}

declare module "vitest" {
  export interface ProvidedContext {
    storageConnectionString: string;
  }
}
