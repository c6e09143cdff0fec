/**
 * Where `npm start` keeps its local state (.burst/): ports, the local secret key, the
 * emulator's per-run token, and what other terminals need to reach the running stack.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { LOCAL_STACK_SETTINGS } from "../../src/admin/localStack.js";
import { ROOT } from "./root.js";

export { ROOT };

export function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a TCP port number, got ${JSON.stringify(text)}`);
  return n;
}

export function localPorts(env: NodeJS.ProcessEnv = process.env) {
  return {
    api: envPort(env, "BURST_API_PORT", 7071),
    emulator: envPort(env, "BURST_EMULATOR_PORT", 4280),
    azurite: { blob: envPort(env, "BURST_AZURITE_BLOB_PORT", 10000), queue: envPort(env, "BURST_AZURITE_QUEUE_PORT", 10001), table: envPort(env, "BURST_AZURITE_TABLE_PORT", 10002) },
  };
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(ROOT, env.BURST_DATA_DIR || ".burst");
}

/** A persistent local secret key for sealing secure values, created on first use. */
export function localSecretKey(dir: string): string {
  const file = path.join(dir, "secret.key");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

const TOKEN_FILE = "emulator.token";

/** A new token for this run's emulator, kept (owner-only) where admin commands find it. */
export function newEmulatorToken(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(path.join(dir, TOKEN_FILE), token, { mode: 0o600 });
  return token;
}

/**
 * The Burst settings the host got, where `--local` admin commands read them
 * (src/admin/localStack.ts). Owner-only, as `.burst/secret.key` is, and removed on stop.
 */
export function writeHostSettings(dir: string, env: NodeJS.ProcessEnv): void {
  const burst = Object.entries(env).filter(([k, v]) => v !== undefined && (k.startsWith("BURST_") || k.startsWith("AzureWebJobs") || k.startsWith("FUNCTIONS_")));
  writeFileSync(path.join(dir, LOCAL_STACK_SETTINGS), JSON.stringify(Object.fromEntries(burst), null, 2), { mode: 0o600 });
}

export function removeHostSettings(dir: string): void {
  rmSync(path.join(dir, LOCAL_STACK_SETTINGS), { force: true });
}

/**
 * `.burst/env`: what a shell needs to reach the running local stack, as `export` lines for
 * `source .burst/env` (the Storage connection string, the API's URL and key).
 */
export function writeLocalEnv(dir: string, values: Record<string, string>): string {
  const file = path.join(dir, "env");
  const quote = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
  writeFileSync(file, `${Object.entries(values).map(([k, v]) => `export ${k}=${quote(v)}`).join("\n")}\n`, { mode: 0o600 });
  return file;
}
