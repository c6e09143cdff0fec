/**
 * The test harness: a whole local Burst for end-to-end tests (`npm start` has its own
 * launcher, tools/launcher/): the ACI emulator (in this process, so tests
 * read its ground truth directly), one or more local Functions hosts running the real
 * functions/ (child processes), and the shared Azurite from the global setup — each
 * test stack with its own storage prefix and resource groups.
 */
import { inject } from "vitest";
import { randomBytes } from "node:crypto";
import { QueueServiceClient } from "@azure/storage-queue";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "@burst/aci-emulator";
import { loadConfig, type PoolConfigInput } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import type { Deps } from "../../src/scheduler/deps.js";
import type { JobRecord, JobState } from "../../src/model.js";
import { jobIdForMessage } from "../../src/scheduler/ids.js";
import { isFinal } from "../../src/jobState.js";
import { APP_MAX_REQUEST_BODY_BYTES } from "../../src/appNames.js";
import { ROOT, startHostProcess, uniqueName, type HostProcess } from "./hostProcess.js";
import { waitUntil } from "./wait.js";

export interface Stack {
  emulator: RunningEmulator;
  hosts: HostProcess[];
  deps: Deps;
  env: Record<string, string>;
  prefix: string;
  /** Puts a spec on the jobs queue as a user would (base64 JSON); returns the job id it becomes. */
  enqueue(spec: unknown): Promise<string>;
  enqueueRaw(text: string): Promise<{ messageId: string }>;
  waitFor(jobId: string, done?: (j: JobRecord) => boolean, timeoutMs?: number): Promise<JobRecord>;
  waitForAll(ids: string[], timeoutMs?: number): Promise<JobRecord[]>;
  addHost(): Promise<HostProcess>;
  stop(): Promise<void>;
}

export const quietLog = { info() {}, warn() {}, error() {} };

export async function startStack(options: {
  runtime?: "sim" | "process";
  pools?: Record<string, PoolConfigInput>;
  hosts?: number;
  emulator?: EmulatorOptions;
  env?: Record<string, string>;
} = {}): Promise<Stack> {
  const prefix = uniqueName("t").replace(/-/g, "");
  // With a token, as npm start runs it: every call Burst makes must carry it.
  const emulatorToken = randomBytes(16).toString("hex");
  const emulator = await startEmulator({ runtime: options.runtime ?? "sim", timings: { pullDelayMs: 200, startDelayMs: 50 }, token: emulatorToken, ...options.emulator });
  const pools = options.pools ?? { default: { maxConcurrency: 5, resourceGroup: `rg-${prefix}` } };
  const env: Record<string, string> = {
    AzureWebJobsStorage: inject("storageConnectionString"),
    BURST_STORAGE_PREFIX: prefix,
    BURST_ARM_ENDPOINT: emulator.url,
    BURST_EMULATOR_TOKEN: emulatorToken,
    BURST_POOLS: JSON.stringify({ pools }),
    BURST_SECRET_KEY: randomBytes(32).toString("base64"),
    BURST_HOST_ID: `host-${prefix}`,
    BURST_LOCAL_QUEUE_LEASE_SECONDS: "20",
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(APP_MAX_REQUEST_BODY_BYTES),
    BURST_RECONCILE_SCHEDULE: "*/10 * * * * *",
    ...options.env,
  };
  const deps = buildDeps(loadConfig(env), quietLog);
  const hosts: HostProcess[] = [];
  const addHost = async () => {
    const h = await startHostProcess({ appDir: ROOT, env });
    hosts.push(h);
    return h;
  };
  try {
    for (let i = 0; i < (options.hosts ?? 1); i++) await addHost();
  } catch (err) {
    // A host that refuses its settings must not leave the rest running.
    await Promise.all(hosts.map((h) => h.stop()));
    await emulator.close();
    throw err;
  }
  const jobsQueue = QueueServiceClient.fromConnectionString(env.AzureWebJobsStorage!).getQueueClient(deps.config.names.jobsQueue);
  await jobsQueue.createIfNotExists();

  const stack: Stack = {
    emulator, hosts, deps, env, prefix, addHost,
    async enqueueRaw(text) {
      const r = await jobsQueue.sendMessage(text);
      return { messageId: r.messageId };
    },
    async enqueue(spec) {
      const r = await jobsQueue.sendMessage(Buffer.from(JSON.stringify(spec)).toString("base64"));
      return jobIdForMessage(r.messageId, r.insertedOn);
    },
    async waitFor(jobId, done = (j) => isFinal(j.state), timeoutMs = 45_000) {
      try {
        return await waitUntil(async () => (await deps.jobs.get(jobId))?.value, { what: `job ${jobId}`, until: (j) => j !== undefined && done(j), timeoutMs, intervalMs: 150 });
      } catch (err) {
        // What the hosts said is usually why the job did not get there.
        throw new Error(`${(err as Error).message}\nhost output:\n${hosts.map((h) => h.output().slice(-3000)).join("\n---\n")}`, { cause: err });
      }
    },
    async waitForAll(ids, timeoutMs = 90_000) {
      return Promise.all(ids.map((id) => stack.waitFor(id, undefined, timeoutMs)));
    },
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      await emulator.close();
    },
  };
  return stack;
}

export function states(jobs: JobRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const j of jobs) out[j.state] = (out[j.state] ?? 0) + 1;
  return out;
}

export type { JobState };
