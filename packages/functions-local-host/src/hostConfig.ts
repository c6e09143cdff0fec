/**
 * Reads host.json the way the Functions host does, for the settings the local host
 * honours. Values are validated eagerly, and an error quotes the bad value.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export type MessageEncoding = "base64" | "none";

export interface QueuesOptions {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  messageEncoding: MessageEncoding;
}

export interface HostConfig {
  routePrefix: string;
  queues: QueuesOptions;
  functionTimeoutMs?: number;
}

/** Parses a .NET TimeSpan string ("hh:mm:ss", "d.hh:mm:ss", "hh:mm:ss.fff") to milliseconds. */
export function parseTimeSpan(value: string, field: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!m) throw new Error(`host.json: ${field} must be a TimeSpan like "00:00:02", got ${JSON.stringify(value)}`);
  const [, days, h, min, s, frac] = m;
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  return ((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + ms;
}

function intIn(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`host.json: ${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Defaults follow the Azure Functions queue extension (QueuesOptions): batchSize 16,
 * newBatchThreshold batchSize/2 × cores, maxPollingInterval 1 min (2 s when running
 * locally), visibilityTimeout 0, maxDequeueCount 5, base64 encoding.
 */
export function parseHostConfig(json: unknown, cores: number, local = true): HostConfig {
  const root = (json ?? {}) as Record<string, any>;
  if (root.version !== "2.0") {
    throw new Error(`host.json: version must be "2.0", got ${JSON.stringify(root.version)}`);
  }
  const q = (root.extensions?.queues ?? {}) as Record<string, unknown>;
  const batchSize = intIn(q.batchSize, "extensions.queues.batchSize", 1, 32, 16);
  const newBatchThreshold = intIn(
    q.newBatchThreshold, "extensions.queues.newBatchThreshold", 0, 10_000, Math.floor(batchSize / 2) * cores,
  );
  const maxPollingIntervalMs = q.maxPollingInterval === undefined
    ? (local ? 2_000 : 60_000)
    : parseTimeSpan(String(q.maxPollingInterval), "extensions.queues.maxPollingInterval");
  if (maxPollingIntervalMs < 100) {
    throw new Error(`host.json: extensions.queues.maxPollingInterval must be at least 00:00:00.1, got ${JSON.stringify(q.maxPollingInterval)}`);
  }
  const visibilityTimeoutMs = q.visibilityTimeout === undefined
    ? 0 : parseTimeSpan(String(q.visibilityTimeout), "extensions.queues.visibilityTimeout");
  const maxDequeueCount = intIn(q.maxDequeueCount, "extensions.queues.maxDequeueCount", 1, 1_000, 5);
  const messageEncoding = (q.messageEncoding ?? "base64") as string;
  if (messageEncoding !== "base64" && messageEncoding !== "none") {
    throw new Error(`host.json: extensions.queues.messageEncoding must be "base64" or "none", got ${JSON.stringify(messageEncoding)}`);
  }
  const routePrefix = root.extensions?.http?.routePrefix ?? "api";
  if (typeof routePrefix !== "string") {
    throw new Error(`host.json: extensions.http.routePrefix must be a string, got ${JSON.stringify(routePrefix)}`);
  }
  return {
    routePrefix: routePrefix.replace(/^\/+|\/+$/g, ""),
    queues: { batchSize, newBatchThreshold, maxPollingIntervalMs, visibilityTimeoutMs, maxDequeueCount, messageEncoding },
    functionTimeoutMs: root.functionTimeout ? parseTimeSpan(String(root.functionTimeout), "functionTimeout") : undefined,
  };
}

export function loadHostConfig(appDir: string, cores: number): HostConfig {
  const file = path.join(appDir, "host.json");
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseHostConfig(json, cores);
}

/** Resolves %AppSetting% references in binding properties, as the host does. */
export function resolveAppSettings(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`app setting "${name}" referenced as %${name}% is not set`);
    return v;
  });
}
