/** Azurite for a run: in memory, on ports it picks itself, as a child process of the harness. */
import { startAzurite, type RunningAzurite } from "../tools/launcher/azurite.js";

/** `cpuProfDir`: write a V8 CPU profile of Azurite there, to see where Storage's work per job goes. */
export const startStorage = (cpuProfDir?: string): Promise<RunningAzurite> =>
  startAzurite(cpuProfDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] } : {});
