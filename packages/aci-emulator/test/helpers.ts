/**
 * Shared test helpers: an emulator on a free port plus the production client pointed at
 * it, a container group body builder, and a poll-until helper (waits for a condition;
 * never asserts how fast it became true).
 */
import { readFileSync } from "node:fs";
import type { ContainerGroup, ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import { createAciClient } from "./client.js";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../src/index.js";

export const SUB = "00000000-0000-0000-0000-000000000001";
export const RG = "burst-test";

/** Short lifecycle timings so tests take milliseconds, not the defaults' seconds. */
export const FAST = { pullDelayMs: 30, startDelayMs: 10, restartBackoffMs: 50, platformRestartDelayMs: 50, spotRestartDelayMs: 100, killGraceMs: 1000 };

export interface TestEmulator {
  emulator: RunningEmulator;
  client: ContainerInstanceManagementClient;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ runtime: "sim", ...options, timings: { ...FAST, ...options.timings } });
  const client = createAciClient({
    subscriptionId: SUB,
    endpoint: emulator.url,
    // Injected 500/503s are retried by the SDK; keep its back-off short for tests.
    clientOptions: { retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 100 } },
  });
  return { emulator, client };
}

/** A one-container group (SDK shape); `command` and `image` cover most tests. */
export function group(options: {
  command?: string[];
  image?: string;
  location?: string;
  restartPolicy?: "Always" | "OnFailure" | "Never";
  cpu?: number;
  memoryInGB?: number;
  priority?: "Regular" | "Spot";
  env?: { name: string; value?: string; secureValue?: string }[];
  ports?: number[];
  dnsNameLabel?: string;
  tags?: Record<string, string>;
} = {}): ContainerGroup {
  const ports = options.ports ?? [];
  return {
    location: options.location ?? "eastus",
    osType: "Linux",
    restartPolicy: options.restartPolicy ?? "Never",
    priority: options.priority,
    tags: options.tags,
    containers: [
      {
        name: "main",
        image: options.image ?? "alpine:3.20",
        command: options.command,
        environmentVariables: options.env ?? [],
        ports: ports.map((port) => ({ port })),
        resources: { requests: { cpu: options.cpu ?? 1, memoryInGB: options.memoryInGB ?? 1 } },
      },
    ],
    ipAddress: ports.length > 0 ? { type: "Public", ports: ports.map((port) => ({ port, protocol: "TCP" })), dnsNameLabel: options.dnsNameLabel } : undefined,
  };
}

export const POLL = { updateIntervalInMs: 10 };

/** Resolves with the first truthy value of `probe`; fails after `timeoutMs` with the last value seen. */
export async function until<T>(probe: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Waits until the group's instanceView.state is one of `states`, returning the GET result. */
export async function waitForState(client: ContainerInstanceManagementClient, name: string, states: string[], timeoutMs = 10_000): Promise<ContainerGroup> {
  return until(async () => {
    const g = await client.containerGroups.get(RG, name);
    return states.includes(g.instanceView?.state ?? "") ? g : undefined;
  }, timeoutMs, `${name} to reach ${states.join("/")}`);
}

/** Raw HTTP to the emulator (admin endpoints, or ARM calls the SDK would retry). */
export async function http(url: string, method = "GET", body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

export function armUrl(emulator: RunningEmulator, name?: string, suffix = ""): string {
  const base = `${emulator.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups`;
  return `${base}${name ? `/${name}` : ""}${suffix}?api-version=2023-05-01`;
}

/** Running, not just present: a killed orphan can linger as a zombie until init reaps it. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return true; // no /proc (not Linux): kill(pid, 0) is all we know
  }
}
