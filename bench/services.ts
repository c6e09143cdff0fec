/** Azurite for a run: in memory, on ports it picks itself, as a child process of the harness. */
import { startAzurite, type RunningAzurite } from "../tools/launcher/azurite.js";

/** Node flags that write a V8 CPU profile into `dir` when the process exits; none without a folder. */
export const cpuProfArgs = (dir?: string): string[] | undefined => (dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : undefined);

/** `cpuProfDir`: write a V8 CPU profile of Azurite there, to see where Storage's work per job goes. */
export const startStorage = (cpuProfDir?: string): Promise<RunningAzurite> => startAzurite({ nodeArgs: cpuProfArgs(cpuProfDir) });
