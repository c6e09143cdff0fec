/**
 * Burst under test: one local Functions host process running the real functions/,
 * against the shared Azurite and its own ACI emulator. Jobs are submitted as a user
 * would: base64 JSON specs put on the jobs queue.
 */
import { randomBytes } from "node:crypto";
import type { LimitsPatch } from "@burst/aci-emulator";
import { QueueServiceClient } from "@azure/storage-queue";
import pLimit from "p-limit";
import { loadConfig } from "../src/config.js";
import { buildDeps } from "../src/composition.js";
import { isFinal } from "../src/jobState.js";
import type { JobRecord, JobState } from "../src/model.js";
import { jobIdForMessage } from "../src/scheduler/ids.js";
import { trueUpBills } from "../src/scheduler/trueUp.js";
import { tableClient } from "../src/store/tables.js";
import type { Deps } from "../src/scheduler/deps.js";
import { ROOT, startHostProcess, type HostProcess } from "../tools/launcher/hostProcess.js";
import { tryProcUsage, type ProcUsage } from "./procStats.js";
import { JOB_CPU, JOB_IMAGE, JOB_MEMORY_GB, type JobPlan } from "./workload.js";

export interface BurstSetup {
  storageConnection: string;
  armEndpoint: string;
  cap: number;
  subscriptionId: string;
  resourceGroup: string;
  /** More app settings for the host. */
  env?: Record<string, string>;
  /** More settings of the one pool (order, budget, backfill…; with `placements`, instead of one placement in eastus). */
  pool?: Record<string, unknown>;
  /** Tell Burst each job's planned duration as expectedSeconds. */
  hintDurations?: boolean;
  /** The pool's notifyExit (containers report their own exit). */
  notifyExit?: boolean;
  /** The host's storage, when it differs from the bench's own (a counting proxy in front of Azurite). */
  hostStorageConnection?: string;
  /** Node flags for the host process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** The storage prefix, to run on what an earlier Burst stored (a learning pass); a fresh one by default. */
  prefix?: string;
  /**
   * The emulator's quotas and create windows, told to the one placement as its `limits`:
   * Burst paces creates to a placement's limits (ACI's live 100 per 5 minutes by default), so a
   * run whose emulator allows more must say so, as a user with a raised quota would.
   */
  emulatorLimits?: LimitsPatch;
}

/** A placement's `limits` (README, "Placements") matching an emulator's limits; Burst's own maxima cap the emulator's "unlimited". */
export function placementLimitsOf(limits: LimitsPatch): Record<string, number> {
  const out: Record<string, number> = {};
  if (limits.containerGroupsPerRegion !== undefined) out.groups = Math.min(limits.containerGroupsPerRegion, 100_000);
  if (limits.standardCoresPerRegion !== undefined) out.cores = Math.min(limits.standardCoresPerRegion, 1_000_000);
  if (limits.creates?.per5Min !== undefined) out.createsPer5Min = Math.min(limits.creates.per5Min, 100_000);
  if (limits.creates?.perHour !== undefined) out.createsPerHour = Math.min(limits.creates.perHour, 1_000_000);
  return out;
}

export interface SubmittedJob {
  index: number;
  jobId: string;
  /** Just before its queue message was sent. */
  submittedAt: number;
}

export interface BurstOutput {
  startedAt: number;
  submitted: SubmittedJob[];
  records: JobRecord[];
  /** The host process: after start-up (before the first job) and after the last job. */
  usageAtStart: ProcUsage;
  usageAtEnd: ProcUsage;
}

export interface RunOptions {
  timeoutMs: number;
  onProgress?: (done: number) => void;
  /**
   * Groups deleted so far, from the emulator. Every finished job deleted its group first,
   * so the job table (a full scan, which loads Azurite at large N) is read only once this
   * reaches N, or every 30 s in case some job never got a group.
   */
  groupsDeleted?: () => Promise<number>;
  /** How the specs arrive: base64 JSON on the jobs queue (default), or `POST /api/jobs`, one spec a request. */
  submit?: "queue" | "http";
  /** Called at the first submission, after the host settled (to start counters). */
  onStart?: () => void;
}

export interface BurstUnderTest {
  pid: number | undefined;
  host: HostProcess;
  /** The app's own view of storage, for drivers that watch jobs one by one. */
  deps: Deps;
  /** Puts one spec on the jobs queue as a user would; answers the job id it becomes. */
  submit(spec: Record<string, unknown>): Promise<string>;
  run(jobs: JobPlan[], options: RunOptions): Promise<BurstOutput>;
  /** Runs the reconciler's true-up from Azure's bill until every attempt's bill is final; returns the records. */
  trueUp(timeoutMs: number): Promise<JobRecord[]>;
  stop(): Promise<void>;
}

const quiet = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A user's batch submitter sends a few messages at a time; enough to enqueue 5,000 in seconds. */
const SUBMIT_PARALLELISM = 8;

/** `POST /api/jobs` with the local host's default function key (docs/api.md); answers the job's id. */
async function postJob(hostUrl: string, spec: object): Promise<string> {
  const res = await fetch(`${hostUrl}/api/jobs`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": "burst-local-key" }, body: JSON.stringify(spec) });
  const body = await res.text();
  if (res.status !== 202) throw new Error(`POST /api/jobs: HTTP ${res.status}: ${body.slice(0, 500)}`);
  return (JSON.parse(body) as { id: string }).id;
}

export async function startBurst(setup: BurstSetup): Promise<BurstUnderTest> {
  const prefix = setup.prefix ?? newBenchPrefix();
  // A pool given with its own placements (the regions run) takes no single subscription, resource group and region.
  const single = setup.pool?.placements
    ? {}
    : { subscriptionId: setup.subscriptionId, resourceGroup: setup.resourceGroup, region: "eastus", ...(setup.emulatorLimits ? { limits: placementLimitsOf(setup.emulatorLimits) } : {}) };
  const pools = { default: { maxConcurrency: setup.cap, ...single, ...setup.pool, ...(setup.notifyExit ? { notifyExit: true } : {}) } };
  const env: Record<string, string> = {
    AzureWebJobsStorage: setup.hostStorageConnection ?? setup.storageConnection,
    BURST_STORAGE_PREFIX: prefix,
    BURST_ARM_ENDPOINT: setup.armEndpoint,
    BURST_POOLS: JSON.stringify({ pools }),
    BURST_SECRET_KEY: randomBytes(32).toString("base64"),
    BURST_HOST_ID: `host-${prefix}`,
    ...setup.env,
  };
  const deps = buildDeps(loadConfig({ ...env, AzureWebJobsStorage: setup.storageConnection }), quiet);
  const jobsQueue = QueueServiceClient.fromConnectionString(setup.storageConnection).getQueueClient(deps.config.names.jobsQueue);
  await jobsQueue.createIfNotExists();
  const host = await startHostProcess({ appDir: ROOT, env, nodeArgs: setup.nodeArgs });
  const pid = host.child.pid;
  const table = tableClient(setup.storageConnection, deps.config.names.jobsTable);

  /** Jobs recorded and how many are final, reading only the state column. */
  const progress = async (): Promise<{ total: number; final: number }> => {
    let total = 0;
    let final = 0;
    try {
      for await (const e of table.listEntities<{ state: JobState }>({ queryOptions: { select: ["state"] } })) {
        total++;
        if (isFinal(e.state)) final++;
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    return { total, final };
  };

  const submit = async (spec: Record<string, unknown>) => {
    const r = await jobsQueue.sendMessage(Buffer.from(JSON.stringify(spec)).toString("base64"));
    return jobIdForMessage(r.messageId, r.insertedOn);
  };

  return {
    pid,
    host,
    deps,
    submit,
    async run(jobs, options) {
      // Let the host settle after start-up, so the CPU it spends loading is not counted per job.
      await sleep(1000);
      // Jobs and deleted groups of an earlier run on this Burst (a learning pass) are not this run's.
      const before = await progress();
      const deletedBefore = options.groupsDeleted ? await options.groupsDeleted() : 0;
      const usageAtStart = tryProcUsage(pid)!;
      options.onStart?.();
      const startedAt = Date.now();
      const limit = pLimit(SUBMIT_PARALLELISM);
      const submitted = await Promise.all(jobs.map((job) => limit(async (): Promise<SubmittedJob> => {
        const spec = { name: `bench-${job.index}`, image: JOB_IMAGE, command: job.command, cpu: JOB_CPU, memoryGb: JOB_MEMORY_GB, timeoutSeconds: 3600, ...(setup.hintDurations ? { expectedSeconds: job.durationSeconds } : {}) };
        const submittedAt = Date.now();
        if (options.submit === "http") {
          const jobId = await postJob(host.url, spec).catch((err: Error) => { throw new Error(`${err.message}\nhost output:\n${host.output().slice(-3000)}`); });
          return { index: job.index, jobId, submittedAt };
        }
        return { index: job.index, jobId: await submit(spec), submittedAt };
      })));
      const deadline = startedAt + options.timeoutMs;
      let lastScan = 0;
      for (;;) {
        const deleted = options.groupsDeleted ? (await options.groupsDeleted()) - deletedBefore : jobs.length;
        if (deleted < jobs.length && Date.now() - lastScan < 30_000) {
          options.onProgress?.(deleted);
          if (Date.now() > deadline) throw new Error(`Burst finished about ${deleted} of ${jobs.length} jobs within ${options.timeoutMs / 1000} s\nhost output:\n${host.output().slice(-3000)}`);
          await sleep(2000);
          continue;
        }
        lastScan = Date.now();
        const now = await progress();
        const p = { total: now.total - before.total, final: now.final - before.final };
        options.onProgress?.(p.final);
        if (p.total >= jobs.length && p.final >= jobs.length) break;
        if (Date.now() > deadline) {
          throw new Error(`Burst finished ${p.final} of ${jobs.length} jobs within ${options.timeoutMs / 1000} s\nhost output:\n${host.output().slice(-3000)}`);
        }
        await sleep(2000);
      }
      const usageAtEnd = tryProcUsage(pid)!;
      const mine = new Set(submitted.map((s) => s.jobId));
      const records: JobRecord[] = [];
      for await (const j of deps.jobs.scan()) if (mine.has(j.id)) records.push(j);
      return { startedAt, submitted, records, usageAtStart, usageAtEnd };
    },
    async trueUp(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await trueUpBills(deps);
        const records: JobRecord[] = [];
        for await (const j of deps.jobs.scan()) records.push(j);
        if (records.every((j) => j.attempts.every((a) => a.billFinal))) return records;
        if (Date.now() > deadline) throw new Error(`bills still open after ${timeoutMs / 1000} s`);
        await sleep(1000);
      }
    },
    stop: () => host.stop(),
  };
}

export const newBenchPrefix = () => `bench${randomBytes(4).toString("hex")}`;
