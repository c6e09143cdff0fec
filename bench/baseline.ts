/**
 * The baseline: a dispatcher as users write one when they do not use a scheduler.
 * `p-limit(cap)` over the jobs; each job creates its group with the SDK's
 * create-and-wait (default LRO polling), then GETs it every 2 s until it has ended,
 * reads its log, and deletes it. No retries of its own (the SDK's retry policy is all
 * it has), no cost accounting, no persistence.
 *
 * Only the timestamps are the benchmark's; the rest is kept as plain as users write it.
 */
import type { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import pLimit from "p-limit";
import type { ProcUsage } from "./procStats.js";

export interface BaselineJob {
  index: number;
  name: string;
  command: string[];
}

export interface BaselineSettings {
  resourceGroup: string;
  location: string;
  image: string;
  cpu: number;
  memoryInGB: number;
  cap: number;
  pollMs: number;
}

export interface BaselineJobResult {
  index: number;
  name: string;
  /** When the dispatcher was handed the job (all at once, at start). */
  submittedAt: number;
  /** beginCreateOrUpdateAndWait returned: the group is provisioned and running. */
  createdAt?: number;
  /** The first GET that showed the group ended. */
  sawEndAt?: number;
  /** Deleted: the job is done as far as the dispatcher is concerned. */
  doneAt?: number;
  /** Its p-limit slot was released (done, or given up after an error). */
  endedAt?: number;
  exitCode?: number;
  logLines?: number;
  error?: string;
  errorStatus?: number;
}

export interface BaselineInput {
  /** The naive p-limit loop (default), or the KEDA-like poller (keda.ts), whose settings add `pollingIntervalMs`. */
  kind?: "naive" | "keda";
  endpoint: string;
  subscriptionId: string;
  settings: BaselineSettings;
  jobs: BaselineJob[];
}

export interface BaselineOutput {
  startedAt: number;
  endedAt: number;
  results: BaselineJobResult[];
  /** The KEDA-like peer: groups it started for a message another group took (they ran nothing), and its polls. */
  duplicateGroups?: number;
  polls?: number;
  /** Before dispatching (after start-up) and after the last job. */
  usageAtStart: ProcUsage;
  usageAtEnd: ProcUsage;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runNaiveDispatcher(client: ContainerInstanceManagementClient, jobs: BaselineJob[], s: BaselineSettings): Promise<BaselineJobResult[]> {
  const limit = pLimit(s.cap);
  const submittedAt = Date.now();
  return Promise.all(jobs.map((job) => limit(async () => {
    const r: BaselineJobResult = { index: job.index, name: job.name, submittedAt };
    // Which call failed, for the report only.
    let step = "create";
    try {
      await client.containerGroups.beginCreateOrUpdateAndWait(s.resourceGroup, job.name, {
        location: s.location,
        osType: "Linux",
        restartPolicy: "Never",
        containers: [{ name: "main", image: s.image, command: job.command, resources: { requests: { cpu: s.cpu, memoryInGB: s.memoryInGB } } }],
      });
      r.createdAt = Date.now();
      step = "get";
      for (;;) {
        const g = await client.containerGroups.get(s.resourceGroup, job.name);
        const state = g.instanceView?.state;
        if (state === "Succeeded" || state === "Failed" || state === "Stopped") {
          r.sawEndAt = Date.now();
          r.exitCode = g.containers[0]?.instanceView?.currentState?.exitCode;
          break;
        }
        await sleep(s.pollMs);
      }
      step = "listLogs";
      const logs = await client.containers.listLogs(s.resourceGroup, job.name, "main");
      r.logLines = (logs.content ?? "").split("\n").filter(Boolean).length;
      step = "delete";
      await client.containerGroups.beginDeleteAndWait(s.resourceGroup, job.name);
      r.doneAt = Date.now();
    } catch (err) {
      r.error = `${step}: ${err instanceof Error ? err.message : String(err)}`;
      r.errorStatus = (err as { statusCode?: number }).statusCode;
    }
    r.endedAt = Date.now();
    return r;
  })));
}
