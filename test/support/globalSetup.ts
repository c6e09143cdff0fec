/**
 * Starts one in-memory Azurite on free ports for the whole run. Each test isolates
 * itself with unique queue, table and container names, so they can share it.
 */
import type { TestProject } from "vitest/node";
import { startAzurite, type RunningAzurite } from "../../tools/launcher/azurite.js";
import { freePort } from "../../tools/launcher/net.js";

let azurite: RunningAzurite | undefined;

export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite({
    ports: { blob: await freePort(), queue: await freePort(), table: await freePort() },
  });
  project.provide("storageConnectionString", azurite.connectionString);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    storageConnectionString: string;
  }
}
