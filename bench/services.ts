/** Azurite for a run: in memory, on free ports, as a child process of the harness. */
import { startAzurite, type RunningAzurite } from "../tools/launcher/azurite.js";
import { freePort } from "../tools/launcher/net.js";

export async function startStorage(): Promise<RunningAzurite> {
  return startAzurite({ ports: { blob: await freePort(), queue: await freePort(), table: await freePort() } });
}
