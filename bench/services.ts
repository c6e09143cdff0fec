/** Azurite for a run: in memory, on ports it picks itself, as a child process of the harness. */
import { startAzurite, type RunningAzurite } from "../tools/launcher/azurite.js";

export const startStorage = (): Promise<RunningAzurite> => startAzurite({});
