/**
 * The reconciler: makes storage and ACI agree again, whatever crashed where. Safe to
 * run at any time and any number of times at once — every repair goes through the
 * same idempotent, ETag-guarded steps the normal path uses.
 *
 * - Orphans: container groups tagged by this deployment (BURST_DEPLOYMENT_ID) whose job
 *   does not own them any more (finished, gone, or a different attempt) are deleted, after
 *   a grace period that protects groups being created right now. Another deployment's
 *   groups are never touched, even in the same resource group under the same pool name:
 *   their jobs are in another storage account, so here they would look orphaned.
 * - Stuck jobs: Waiting jobs missing from their pool's line are put back; Admitted or
 *   Launching ones are (re)launched; Running ones whose monitor chain broke get a poll;
 *   Finishing ones are finished. A restarted poll also enforces a missed deadline.
 * - Ledgers: slot holders whose job no longer holds a slot are settled.
 * - Then every pool is pumped.
 * - Last, settled attempts' estimates are trued up from Azure's bill (trueUp.ts), finished
 *   jobs past their retention are deleted, a bounded batch per run (retention.ts), and
 *   messages waiting in the poison queues are counted and warned about.
 */
import { isFinal } from "../jobState.js";
import { ACTIVE_STATES, type JobState } from "../model.js";
import { lineEntry } from "./lineEntry.js";
import { TAGS } from "../aci/groupSpec.js";
import { errorMessage } from "../errors.js";
import { groupName, refFor } from "./ids.js";
import { groupScopes } from "./pools.js";
import { LAUNCH_CLAIM_SECONDS } from "./launch.js";
import { finish, launch, pump, runAll, type Next } from "./flow.js";
import { liveChildren } from "./array.js";
import type { Deps } from "./deps.js";
import { trueUpBills } from "./trueUp.js";
import { deleteExpiredJobs } from "./retention.js";
import { JobCensus } from "../telemetry/census.js";

export const ORPHAN_GRACE_SECONDS = 120;

export interface ReconcileReport {
  orphansDeleted: number;
  requeued: number;
  relaunched: number;
  repolled: number;
  finished: number;
  holdersRepaired: number;
  /** Index rows (for listing jobs in creation order) rewritten to agree with their jobs. */
  indexRepaired: number;
  /** Attempts whose bill from Cost Management was recorded (see trueUp.ts). */
  billsRecorded: number;
  /** Finished jobs deleted past their retention (at most `retentionBatch` a run; the next run goes on). */
  jobsDeleted: number;
  /** Jobs past their retention kept until their bill is final. */
  jobsHeldForBills: number;
  /** Messages waiting in the poison queues for a person (`burst poison`); a warning names them. */
  poisonedMessages: number;
  errors: number;
  actions: number;
}

const age = (now: Date, iso?: string) => (iso ? (now.getTime() - Date.parse(iso)) / 1000 : Infinity);

export interface ReconcileOptions {
  /** Leave groups younger than this alone (they may be being created right now). */
  orphanGraceSeconds?: number;
  /** Treat a job as stuck after this long without progress (defaults per state, below). */
  stuckAfterSeconds?: number;
  /** Delete at most this many finished jobs past their retention (default RETENTION_BATCH). */
  retentionBatch?: number;
  /**
   * Pace the scan of unfinished jobs (the timer's runs): skip it while less than
   * (jobs it read last time) ÷ SCAN_JOBS_PER_SECOND seconds have passed since. Without
   * this, every run reads every unfinished job and the whole waiting line, so a backlog of
   * N jobs costs N reads every 30 s and its storage work per job grows with N. The
   * ledger's holders (bounded by the cap) are still checked every run.
   */
  paceScan?: boolean;
}

/** The paced scan's average rate: a backlog of 6,000 jobs is scanned every 5 minutes, one of 600 every 30 s. */
export const SCAN_JOBS_PER_SECOND = 20;
const lastScan = new WeakMap<Deps, { at: number; jobs: number }>();

export async function reconcile(deps: Deps, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const r: ReconcileReport = { orphansDeleted: 0, requeued: 0, relaunched: 0, repolled: 0, finished: 0, holdersRepaired: 0, indexRepaired: 0, billsRecorded: 0, jobsDeleted: 0, jobsHeldForBills: 0, poisonedMessages: 0, errors: 0, actions: 0 };
  const now = deps.clock.now();
  const stuck = opts.stuckAfterSeconds;
  const safely = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      r.errors++;
      deps.log.warn(`reconcile: ${what}: ${errorMessage(err)}`);
    }
  };
  const previous = lastScan.get(deps);
  const scan = !opts.paceScan || !previous || now.getTime() - previous.at >= (previous.jobs / SCAN_JOBS_PER_SECOND) * 1000;
  const holders = new Map<string, Record<string, { attempt: number }>>();
  const inLine = new Map<string, Set<string>>();
  for (const pool of deps.config.pools.values()) {
    if (!scan) break;
    holders.set(pool.name, (await deps.ledger.snapshot(pool.name, now)).holders);
    inLine.set(pool.name, new Set((await deps.ledger.waiting(pool.name, Number.MAX_SAFE_INTEGER)).map((e) => e.jobId)));
  }

  // Streamed, not collected: a pool may have thousands of jobs waiting (only their states are kept, for the index).
  const active = new Map<string, JobState>();
  const census = new JobCensus();
  for await (const job of scan ? deps.jobs.scan({ states: [...ACTIVE_STATES] }) : []) {
    active.set(job.id, job.state);
    census.add(job);
    const pool = deps.config.pools.get(job.pool);
    if (!pool) continue;
    await safely(`job ${job.id}`, async () => {
      if (job.state === "Waiting" && job.waitingFor?.length) {
        // Blocked on dependencies: not in the line by design; its dependencies' ends may not have been told.
        await runAll(deps, [{ step: "dependencies", jobId: job.id }]);
      } else if (job.array) {
        // An array parent: re-note its unfinished children (their end may not have been told) and make the next ones.
        await runAll(deps, [...liveChildren(job).map((id): Next => ({ step: "arrayChild", parentId: job.id, index: Number(id.slice(-5)) })), { step: "array", parentId: job.id }]);
      } else if (job.state === "Waiting" && holders.get(pool.name)?.[job.id]?.attempt === job.attempts.length + 1) {
        // Admitted in the ledger, but the pump died before marking and launching it.
        if ((await launch(deps, job.id)) === "acted") r.relaunched++;
      } else if (job.state === "Waiting" && job.spec && !inLine.get(pool.name)?.has(job.id)) {
        await deps.ledger.addWaiting(pool.name, lineEntry({ ...job, spec: job.spec }, pool));
        r.requeued++;
      } else if ((job.state === "Admitted" && age(now, job.updatedAt) > (stuck ?? 30)) || (job.state === "Launching" && age(now, job.attempts.at(-1)?.claimedAt) > LAUNCH_CLAIM_SECONDS)) {
        // A create that ARM throttled is not stuck: its launch message comes back at deferredUntil.
        if ((await launch(deps, job.id)) === "acted") r.relaunched++;
      } else if (job.state === "Running" && age(now, job.lastPolledAt) > (stuck ?? Math.max(60, 3 * pool.maxPollSeconds))) {
        await deps.outbox.send("monitor", { jobId: job.id, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq, fresh: true });
        r.repolled++;
      } else if (job.state === "Finishing" && age(now, job.updatedAt) > (stuck ?? 30)) {
        await finish(deps, job.id);
        r.finished++;
      }
    });
  }

  for (const pool of deps.config.pools.values()) {
    await safely(`pool ${pool.name} ledger`, async () => {
      const snap = await deps.ledger.snapshot(pool.name, now);
      for (const [jobId, holder] of Object.entries(snap.holders)) {
        // No branch below acts on a holder this young, so its job is not worth a read.
        if (age(now, holder.since) < (stuck ?? 30)) continue;
        // Read the job after the ledger, never from the earlier scan: a job may have moved on to a new attempt since.
        const job = (await deps.jobs.get(jobId))?.value;
        if (!scan && job?.state === "Waiting" && !job.waitingFor?.length && !job.array && holder.attempt === job.attempts.length + 1) {
          // Admitted in the ledger, but the pump died before marking and launching it (the scan's case, between scans).
          if ((await launch(deps, jobId)) === "acted") r.relaunched++;
          continue;
        }
        // A holder is legitimate while its job is live on that attempt (Waiting counts: admitted, not yet marked).
        const holds = job && !isFinal(job.state) && (job.attempts.length + (job.state === "Waiting" || job.state === "Admitted" ? 1 : 0)) === holder.attempt;
        if (holds || age(now, holder.since) < (stuck ?? 60)) continue;
        const attempt = job?.attempts.find((a) => a.n === holder.attempt);
        await deps.ledger.settle(pool.name, jobId, holder.attempt, attempt?.costUsd ?? 0, attempt?.billedSeconds ?? 0, now);
        r.holdersRepaired++;
      }
    });
    await safely(`pool ${pool.name} orphans`, async () => {
      for (const scope of groupScopes(pool)) {
        for await (const g of deps.aci.list(scope.subscriptionId, scope.resourceGroup)) {
          if (g.tags[TAGS.managed] !== "true" || g.tags[TAGS.pool] !== pool.name || g.tags[TAGS.deployment] !== deps.config.deploymentId) continue;
          if (age(now, g.tags[TAGS.created]) < (opts.orphanGraceSeconds ?? ORPHAN_GRACE_SECONDS)) continue;
          const jobId = g.tags[TAGS.job] ?? "";
          const job = (await deps.jobs.get(jobId))?.value;
          const last = job?.attempts.at(-1);
          const where = job && last ? refFor(deps, job, last.n) : undefined;
          const current = job && !isFinal(job.state) && job.state !== "Finishing" && last && groupName(job.id, last.n) === g.name
            && where!.subscriptionId.toLowerCase() === scope.subscriptionId.toLowerCase() && where!.resourceGroup.toLowerCase() === scope.resourceGroup.toLowerCase();
          if (current) continue;
          await deps.aci.delete({ ...scope, name: g.name });
          deps.log.warn(`reconcile: deleted orphaned container group ${g.name} in ${scope.subscriptionId}/${scope.resourceGroup} (job ${jobId || "unknown"} ${job ? job.state : "not found"})`);
          r.orphansDeleted++;
        }
      }
    });
    await safely(`pool ${pool.name} pump`, async () => { await pump(deps, pool.name); });
  }
  await safely("placement holders", async () => { r.holdersRepaired += await releaseStaleRoom(deps, now, stuck ?? 30); });
  if (scan) {
    lastScan.set(deps, { at: now.getTime(), jobs: active.size });
    await safely("job index", async () => { r.indexRepaired = await deps.jobs.reindexActive(active, now); });
  }
  await safely("bills", async () => { r.billsRecorded = (await trueUpBills(deps)).billsRecorded; });
  await safely("retention", async () => {
    const ret = await deleteExpiredJobs(deps, { limit: opts.retentionBatch });
    r.jobsDeleted = ret.deleted;
    r.jobsHeldForBills = ret.held;
    r.errors += ret.errors;
  });
  await safely("poison queues", async () => {
    const depths = await deps.poison.depths();
    deps.telemetry?.reconciled({}, depths);
    const deep = Object.entries(depths).filter(([, n]) => n > 0);
    r.poisonedMessages = deep.reduce((s, [, n]) => s + n, 0);
    // They expire with the queue's time to live (7 days): somebody should look.
    if (deep.length) deps.log.warn(`reconcile: messages wait in poison queues: ${deep.map(([q, n]) => `${q} ${n}`).join(", ")} (see \`burst poison\`; they expire after 7 days)`);
  });
  r.actions = r.orphansDeleted + r.requeued + r.relaunched + r.repolled + r.finished + r.holdersRepaired;
  await safely("telemetry", async () => {
    const { orphansDeleted, requeued, relaunched, repolled, finished, holdersRepaired, indexRepaired } = r;
    deps.telemetry?.reconciled({ orphansDeleted, requeued, relaunched, repolled, finished, holdersRepaired, indexRepaired }, {});
    if (scan) await census.record(deps);
  });
  return r;
}

/**
 * Gives back room that no live attempt holds: a launcher that died between reserving and
 * recording, or a finish that died between deleting the group and releasing. An attempt
 * holds room while it is its job's current one and the job is launching, running or
 * finishing there. A holder younger than `graceSeconds` is left for the next pass
 * without reading its job: keeping room a little longer never breaks a quota.
 */
async function releaseStaleRoom(deps: Deps, now: Date, graceSeconds: number): Promise<number> {
  let released = 0;
  for (const h of await deps.placements.holders()) {
    if (h.createdAt !== undefined && now.getTime() / 1000 - h.createdAt < graceSeconds) continue;
    const [jobId = "", n = ""] = h.key.split("#");
    const job = (await deps.jobs.get(jobId))?.value;
    const last = job?.attempts.at(-1);
    const holds = job && ["Launching", "Running", "Finishing"].includes(job.state) && last?.n === Number(n) && (!last.placement || last.placement === h.placement);
    if (holds) continue;
    const [subscriptionId = "", , region = ""] = h.placement.split("/");
    await deps.placements.release({ id: h.placement, subscriptionId, region }, h.key);
    deps.log.warn(`reconcile: released room in ${h.placement} held by ${h.key} (job ${job ? job.state : "not found"})`);
    released++;
  }
  return released;
}
