/**
 * App settings, as Azure Functions provides them: environment variables, plus the
 * `Values` of local.settings.json for local runs (Core Tools' convention). A variable
 * already set in the environment wins over the file.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export function loadLocalSettings(appDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = path.join(appDir, "local.settings.json");
  if (!existsSync(file)) return undefined;
  let json: { Values?: Record<string, unknown> };
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  for (const [k, v] of Object.entries(json.Values ?? {})) {
    if (typeof v !== "string") throw new Error(`${file}: Values.${k} must be a string, got ${JSON.stringify(v)}`);
    if (env[k] === undefined) env[k] = v;
  }
  return file;
}

/** The local API key's documented default, for local runs only. */
export const DEFAULT_LOCAL_API_KEY = "burst-local-key";

export function localKeys(env: NodeJS.ProcessEnv = process.env) {
  const functionKey = env.BURST_API_KEY || DEFAULT_LOCAL_API_KEY;
  return { functionKeys: [functionKey], masterKey: env.BURST_MASTER_KEY || functionKey };
}
