/**
 * `--local` for admin commands: act on the stack `npm start` runs, with the settings it
 * gave its Functions host. Nothing else points an admin command at the emulator: with no
 * ARM endpoint setting, Burst means Azure.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** Written (owner-only) by `npm start` in its data folder while it runs, removed when it stops. */
export const LOCAL_STACK_SETTINGS = "host-settings.json";

export function localStackSettingsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.BURST_DATA_DIR || ".burst", LOCAL_STACK_SETTINGS);
}

/** The environment with `npm start`'s host settings under it (what is set explicitly still wins). */
export function withLocalStackSettings(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const file = localStackSettingsFile(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    throw new Error(`--local acts on the stack npm start runs, and it is not running (${file} does not exist): start it with npm start`, {
      cause: err,
    });
  }
  const settings = JSON.parse(text) as Record<string, string>;
  return { ...settings, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")) };
}
