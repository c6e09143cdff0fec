/**
 * The second peer: what users pick instead of a scheduler, a KEDA ScaledJob (or a
 * Container Apps job with an event trigger, which runs KEDA's scaler inside), modelled
 * against ACI. Its loop, as KEDA documents and runs it:
 *
 * - every `pollingInterval` (default 30 s; KEDA's ScaledJob spec) it reads the queue's
 *   length and the jobs it has started;
 * - with the `accurate` scaling strategy it starts `maxScale - pendingJobCount` jobs, or
 *   `maxReplicaCount - runningJobCount` when `maxScale + running` would pass
 *   `maxReplicaCount`, where `maxScale = min(queueLength, maxReplicaCount)` (KEDA's
 *   `GetEffectiveMaxScale`, quoted in kedacore/keda#7329);
 * - without `pendingPodConditions`, pending jobs count as 0 (kedacore/keda#6157, fixed
 *   only by kedacore/keda#7077 in 2025), while a message stays in the queue until a pod
 *   has started and taken it. A job still provisioning at the next poll is therefore
 *   started again: the extra job starts, finds no message of its own and exits at once
 *   (what #6157 and #2488 report as duplicate jobs).
 *
 * Each job is one container group that takes the first message left when it starts and
 * runs it. Messages are bound to groups in queue order at creation (the same order pods
 * would take them in), and a group with no message left gets a command that exits at once.
 * Between polls nothing happens: ended groups are found, their logs read and deleted at
 * the next poll, as KEDA finds finished Jobs only when it polls.
 */
import type { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import type { BaselineJob, BaselineJobResult, BaselineSettings } from "./baseline.js";

export interface KedaSettings extends BaselineSettings {
  /** KEDA's pollingInterval, ms (30,000 by default). `cap` is maxReplicaCount. */
  pollingIntervalMs: number;
}

export interface KedaRun {
  results: BaselineJobResult[];
  /** Groups started for a message another group took first (#6157): they run nothing. */
  duplicateGroups: number;
  polls: number;
}

interface Live {
  name: string;
  /** The message it will take when it starts; undefined for a duplicate. */
  job?: BaselineJob;
  started: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const remove = <T>(list: T[], x: T | undefined) => {
  const i = x === undefined ? -1 : list.indexOf(x);
  if (i >= 0) list.splice(i, 1);
};

/** KEDA's accurate strategy with pending jobs counted as 0 (#6157). */
export function jobsToStart(queueLength: number, runningJobs: number, maxReplicaCount: number): number {
  const maxScale = Math.min(queueLength, maxReplicaCount);
  const pendingJobs = 0;
  return Math.max(0, maxScale + runningJobs > maxReplicaCount ? maxReplicaCount - runningJobs : maxScale - pendingJobs);
}

export async function runKedaLike(client: ContainerInstanceManagementClient, jobs: BaselineJob[], s: KedaSettings): Promise<KedaRun> {
  const submittedAt = Date.now();
  const results = new Map<number, BaselineJobResult>(jobs.map((j) => [j.index, { index: j.index, name: j.name, submittedAt }]));
  /** Messages no started group has taken yet, in queue order. */
  const queue = [...jobs];
  const live: Live[] = [];
  let duplicates = 0;
  let polls = 0;
  const fail = (job: BaselineJob | undefined, step: string, err: unknown) => {
    if (!job) return;
    const r = results.get(job.index)!;
    r.error = `${step}: ${err instanceof Error ? err.message : String(err)}`;
    r.errorStatus = (err as { statusCode?: number }).statusCode;
    r.endedAt = Date.now();
  };
  while (queue.length > 0 || live.length > 0) {
    const pollAt = Date.now();
    polls++;
    // The jobs KEDA started: which have begun (taken their message), which have ended.
    await Promise.all(
      [...live].map(async (g) => {
        try {
          const group = await client.containerGroups.get(s.resourceGroup, g.name);
          const state = group.instanceView?.state;
          const container = group.containers[0]?.instanceView?.currentState;
          if (!g.started && (state === "Running" || container?.state === "Running" || container?.state === "Terminated")) {
            g.started = true;
            if (g.job) remove(queue, g.job);
          }
          if (state === "Succeeded" || state === "Failed" || state === "Stopped") {
            const r = g.job ? results.get(g.job.index)! : undefined;
            if (r) {
              r.sawEndAt = Date.now();
              r.exitCode = container?.exitCode;
              const logs = await client.containers.listLogs(s.resourceGroup, g.name, "main");
              r.logLines = (logs.content ?? "").split("\n").filter(Boolean).length;
            }
            await client.containerGroups.beginDeleteAndWait(s.resourceGroup, g.name);
            if (r) r.doneAt = r.endedAt = Date.now();
            remove(live, g);
          }
        } catch (err) {
          fail(g.job, "poll", err);
          if (g.job && !g.started) remove(queue, g.job);
          remove(live, g);
        }
      }),
    );
    // Queue length: messages not yet taken, including those a pending group will take.
    const toStart = jobsToStart(queue.length, live.length, s.cap);
    const claimed = new Set(live.map((g) => g.job).filter(Boolean));
    const unclaimed = queue.filter((j) => !claimed.has(j));
    await Promise.all(
      Array.from({ length: toStart }, async (_, i) => {
        const job = unclaimed[i];
        const name = job ? job.name : `${s.resourceGroup}-dup-${++duplicates}`;
        const g: Live = { name, job, started: false };
        live.push(g);
        try {
          // KEDA creates a Job and moves on; the pod starts when it starts.
          await client.containerGroups.beginCreateOrUpdate(s.resourceGroup, name, {
            location: s.location,
            osType: "Linux",
            restartPolicy: "Never",
            containers: [
              {
                name: "main",
                image: s.image,
                command: job ? job.command : ["sh", "-c", "echo no message left"],
                resources: { requests: { cpu: s.cpu, memoryInGB: s.memoryInGB } },
              },
            ],
          });
          if (job) results.get(job.index)!.createdAt = Date.now();
        } catch (err) {
          fail(job, "create", err);
          if (job) remove(queue, job);
          remove(live, g);
        }
      }),
    );
    if (queue.length === 0 && live.length === 0) break;
    await sleep(Math.max(0, pollAt + s.pollingIntervalMs - Date.now()));
  }
  return { results: jobs.map((j) => results.get(j.index)!), duplicateGroups: duplicates, polls };
}
