/**
 * Starts one in-memory Azurite, on ports it picks, for the whole run. Each test isolates
 * itself with unique queue, table and container names, so they can share it.
 */
import type { TestProject } from "vitest/node";
import { startAzurite, type RunningAzurite } from "../../tools/launcher/azurite.js";

let azurite: RunningAzurite | undefined;

export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite({});
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
