/**
 * The order of the scheduler's steps, in one place:
 *
 *   pump ──► launch ──► watch ──► (polls, by queue message) ──► finish ──► pump
 *
 * Each step (pump.ts, launch.ts, monitor.ts, finish.ts) is a leaf: it does its own work
 * and answers what should happen next, and this module runs that here and now. Queue
 * messages, the API and the reconciler enter the flow at any step. The next steps of one
 * step run side by side (the jobs a pump admits launch at once); a step's failure
 * propagates to whoever entered the flow, so its message is retried, except an inline
 * launch after a pump, which a delayed launch message backs up.
 */
import { errorMessage } from "../errors.js";
import type { MonitorMessage } from "../store/outbox.js";
import type { Deps } from "./deps.js";
import { pumpPool } from "./pump.js";
import { launchClaimed, launchJob } from "./launch.js";
import { pollJob, startMonitoring } from "./monitor.js";
import { finishJob } from "./finish.js";
import { expandArray, noteChildEnded } from "./array.js";
import { cancelStep } from "./cancelStep.js";
import { checkDependencies } from "./dependencies.js";
import { takeExitReport } from "./exitReport.js";
import type { ExitReport } from "../exitReport.js";
import type { JobRecord } from "../model.js";

export type Next =
  | { step: "pump"; pool: string }
  /**
   * `backedUp`: a launch message is on its way too, so a failure here is only warned about.
   * `claimed`: the job as this process has just written it, its attempt claimed (the pump's marking).
   */
  | { step: "launch"; jobId: string; backedUp?: boolean; claimed?: JobRecord }
  | { step: "watch"; jobId: string; attempt: number }
  | { step: "finish"; jobId: string }
  /** Make an array's next children (array.ts). */
  | { step: "array"; parentId: string }
  /** Tell an array parent that its child `index` ended. */
  | { step: "arrayChild"; parentId: string; index: number }
  | { step: "cancel"; jobId: string }
  /** Re-check a waiting job's dependencies (dependencies.ts). */
  | { step: "dependencies"; jobId: string };

/** A pump's admission done; its launches may still be running (wrapped: a promise of a promise would flatten). */
interface Admitted {
  launches: Promise<void>;
}
interface PoolPumps {
  running?: Promise<Admitted>;
  runningSince?: number;
  queued?: Promise<Admitted>;
}
/**
 * A pump slower than this (storage slow to answer) no longer holds the others back: they
 * run beside it, racing through the ledger's ETag as any two instances do.
 */
const PUMP_TURN_MS = 5000;
const pumpsOf = new WeakMap<Deps, Map<string, PoolPumps>>();

/** The admitted jobs' marking and launches, left running; awaited (and reported) by whoever asked for the pump. */
function afterAdmission(deps: Deps, r: { marked: Promise<Next[]> }): Admitted {
  const launches = r.marked.then((next) => runAll(deps, next));
  launches.catch(() => {});
  return { launches };
}

/**
 * Pumps of one pool in one process run one at a time. A pump asked for while one runs
 * waits for it and then runs once for everyone who asked meanwhile: it reads the ledger
 * after all their changes, so none is missed, and the burst of pumps that a batch of
 * submissions or endings triggers costs one ledger read and one transaction instead of
 * one each, most of them lost to ETag conflicts. Other instances still race through the
 * ledger's ETag, as before. The launches a pump admits run outside this turn-taking; all
 * who shared the pump wait for them.
 */
function coalescedPump(deps: Deps, pool: string): Promise<Admitted> {
  let byPool = pumpsOf.get(deps);
  if (!byPool) pumpsOf.set(deps, (byPool = new Map()));
  let state = byPool.get(pool);
  if (!state) byPool.set(pool, (state = {}));
  const s = state;
  const start = (): Promise<Admitted> => {
    const run = pumpPool(deps, pool).then((r) => afterAdmission(deps, r));
    s.running = run;
    s.runningSince = Date.now();
    void run.catch(() => {}).then(() => {
      if (s.running === run) s.running = undefined;
    });
    return run;
  };
  if (!s.running) return start();
  if (Date.now() - s.runningSince! > PUMP_TURN_MS) return pumpPool(deps, pool).then((r) => afterAdmission(deps, r));
  if (!s.queued) {
    const queued = s.running.catch(() => {}).then(() => {
      s.queued = undefined;
      return start();
    });
    s.queued = queued;
  }
  return s.queued;
}

async function runOne(deps: Deps, next: Next): Promise<void> {
  let after: Next[];
  switch (next.step) {
    case "pump":
      await (await coalescedPump(deps, next.pool)).launches;
      return;
    case "launch":
      try {
        after = (await (next.claimed ? launchClaimed(deps, next.claimed) : launchJob(deps, next.jobId))).next;
      } catch (err) {
        if (!next.backedUp) throw err;
        deps.log.warn(`job ${next.jobId}: inline launch failed, the backup launch message will retry: ${errorMessage(err)}`);
        return;
      }
      break;
    case "watch":
      after = await startMonitoring(deps, next.jobId, next.attempt);
      break;
    case "finish":
      after = await finishJob(deps, next.jobId);
      break;
    case "array":
      after = await expandArray(deps, next.parentId);
      break;
    case "arrayChild":
      after = await noteChildEnded(deps, next.parentId, next.index);
      break;
    case "cancel":
      after = (await cancelStep(deps, next.jobId)).next;
      break;
    case "dependencies":
      after = await checkDependencies(deps, next.jobId);
      break;
  }
  await runAll(deps, after);
}

/** Runs these steps and everything they lead to. */
export async function runAll(deps: Deps, steps: Next[]): Promise<void> {
  await Promise.all(steps.map((s) => runOne(deps, s)));
}

/** Admits what the pool can take, and launches it. */
export const pump = (deps: Deps, pool: string): Promise<void> => runOne(deps, { step: "pump", pool });

/**
 * Admits what the pool can take and starts their launches without waiting for them: a
 * submission answers once its job is in the line and the pool has admitted what it can, so
 * a burst of submissions is not held up by one another's PUTs (dispatch latency). Each
 * admitted job's delayed launch message backs up a launch that never completes, as it
 * backs up every inline launch; a failed launch is logged here.
 */
export async function pumpNoWait(deps: Deps, pool: string): Promise<void> {
  const { launches } = await coalescedPump(deps, pool);
  launches.catch((err: unknown) => deps.log.warn(`pool ${pool}: a launch after admission failed, its launch message will retry: ${errorMessage(err)}`));
}

/** Ends a Finishing job and hands its slot on. */
export const finish = (deps: Deps, jobId: string): Promise<void> => runOne(deps, { step: "finish", jobId });

/** Launches (or resumes launching) a job; answers whether the launch did anything, for the reconciler's counts. */
export async function launch(deps: Deps, jobId: string): Promise<"acted" | "nothing"> {
  const r = await launchJob(deps, jobId);
  await runAll(deps, r.next);
  return r.outcome;
}

/** A container's exit report (notifyExit): one poll now, if the report is the attempt's own. */
export async function exitReported(deps: Deps, report: ExitReport): Promise<void> {
  await runAll(deps, await takeExitReport(deps, report));
}

/** One poll of a running job, from its monitor message. */
export async function poll(deps: Deps, msg: MonitorMessage): Promise<void> {
  await runAll(deps, await pollJob(deps, msg));
}

/** How long a poll or launch that failed inside a message of several waits before it is tried again on its own (host.json's visibilityTimeout). */
export const FAILED_POLL_RETRY_SECONDS = 5;

/**
 * The steps of one message that carries several (the outbox sends polls, and launches,
 * due together as one), side by side. A step that fails goes back on the queue as a
 * message of its own, so the host's tries and the last-try handling (a job whose polls or
 * launch keep failing ends) apply to it alone, and the steps that worked are not run
 * again. Only if that send fails does the message fail.
 */
async function runEach<T extends { jobId: string }>(deps: Deps, items: T[], what: string, run: (item: T) => Promise<unknown>, again: (item: T) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(items.map(run));
  const failed = items.filter((item, i) => {
    const r = results[i]!;
    if (r.status === "fulfilled") return false;
    deps.log.warn(`job ${item.jobId}: ${what} failed, tried again on its own in ${FAILED_POLL_RETRY_SECONDS} s: ${errorMessage(r.reason)}`);
    return true;
  });
  await Promise.all(failed.map(again));
}

/** The polls of one message. */
export function pollAll(deps: Deps, polls: MonitorMessage[]): Promise<void> {
  return runEach(deps, polls, "poll", (m) => poll(deps, m), (m) => deps.outbox.send("monitor", m, FAILED_POLL_RETRY_SECONDS, { alone: true }));
}

/** The launches of one message. */
export function launchAll(deps: Deps, jobIds: string[]): Promise<void> {
  return runEach(deps, jobIds.map((jobId) => ({ jobId })), "launch", (m) => launch(deps, m.jobId), (m) => deps.outbox.send("launch", m, FAILED_POLL_RETRY_SECONDS, { alone: true }));
}
