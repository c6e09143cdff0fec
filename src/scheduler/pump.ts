/**
 * The pump: admits waiting jobs of a pool while it has free slots and budget, in the
 * line's order (priority, the pool's `order`, arrival), backfilling past a budget-blocked
 * head where that cannot delay it (admission.ts). It runs wherever capacity may have changed — after a
 * submission, when a job finishes (handing its slot on), on a delayed pump message for
 * retry backoffs, and from the reconciler's timer as a safety net. Any number of pumps
 * may run at once: admission is one ETag-guarded ledger transaction.
 */
import pLimit from "p-limit";
import { errorMessage } from "../errors.js";
import { decideAdmission, priorityOf, windowsOf, type Holder } from "../admission.js";
import { changeJob, isFinal } from "../jobState.js";
import { claimAttempt } from "./claim.js";
import type { LedgerSnapshot, WaitingEntry } from "../store/ledgerStore.js";
import type { PoolConfig } from "../config.js";
import { planSlots } from "../slotPlan.js";
import type { Versioned } from "../store/jobStore.js";
import type { JobRecord } from "../model.js";
import type { Deps } from "./deps.js";
import { poolOf } from "./pools.js";
import type { Next } from "./flow.js";

/** How long the backup launch message waits; the inline launch normally gets there first. */
export const BACKUP_LAUNCH_DELAY_SECONDS = 60;

/** Table storage's limit on a transaction's operations (100), less the admission row itself. */
export const ADMIT_PER_TRANSACTION = 99;
const READS_AT_ONCE = 16;

/**
 * Admits what the pool can take now; answers who was admitted, and `marked`: their marking
 * as Admitted, already under way, which resolves to their launches. The marking is left
 * running when the admission is done, so the next pump need not wait for it (flow.ts); a
 * process that dies before it is done leaves holders of Waiting jobs, which the backup
 * launch message or the reconciler launch.
 */
export async function pumpPool(deps: Deps, poolName: string): Promise<{ admitted: string[]; marked: Promise<Next[]> }> {
  const pool = poolOf(deps, poolName);
  const admittedIds: string[] = [];
  const marking: Promise<Next[]>[] = [];
  const spent = { day: pool.budget.dailyUsd !== undefined, month: pool.budget.monthlyUsd !== undefined };
  // In a pool without budgets the first round starts from the admission entity as this process last saw it: an admission
  // is conditional on its ETag, and a "nothing to admit" concluded from it is checked on a fresh read. With a budget, the
  // spending totals are read: a bill recorded elsewhere changes them without touching the admission entity.
  let known = !spent.day && !spent.month;
  for (let round = 0; round < 50; round++) {
    const now = deps.clock.now();
    // A window without a budget needs no spending total: a pump in a pool without budgets reads one row, not three.
    const snap = await deps.ledger.snapshot(pool.name, now, spent, known);
    const fromKnown = known;
    known = false;
    const free = pool.maxConcurrency - Object.keys(snap.holders).length;
    if (free <= 0) {
      if (fromKnown) continue;
      break;
    }
    // Read a little past the free slots: entries in backoff are skipped, not waited on.
    const line = await readLine(deps, pool, free + 16);
    if (line.length === 0) break;

    const decision = decideAdmission(snap, pool, inPlannedOrder(pool, snap, line, now), now);
    // Entries whose job no longer waits (admitted, canceled, finished) are dropped, not admitted.
    const chosen: { entry: WaitingEntry; holder: Holder; job: Versioned<JobRecord> }[] = [];
    let dropped = 0;
    // One admission is one Table transaction, which holds at most 100 operations: the admission row and 99 line deletions; the next round takes the rest.
    const candidates = decision.admit.slice(0, ADMIT_PER_TRANSACTION);
    // Read side by side: a first wave of a hundred jobs is a hundred reads, not a hundred round trips one after another.
    const read = pLimit(READS_AT_ONCE);
    const jobs = await Promise.all(candidates.map((entry) => read(() => deps.jobs.get(entry.jobId))));
    // Line entries of slot holders are left over from a pump that died mid-way; only a fresh read of the holders may say so.
    const stale: WaitingEntry[] = fromKnown ? [] : line.filter((e) => e.jobId in snap.holders);
    const { day, month } = windowsOf(now);
    candidates.forEach((entry, i) => {
      const job = jobs[i];
      if (!job || job.value.state !== "Waiting") return void stale.push(entry);
      const holder: Holder = { attempt: job.value.attempts.length + 1, reservedUsd: entry.worstUsd, day, month, since: now.toISOString() };
      if (entry.worstSeconds !== undefined) holder.worstSeconds = entry.worstSeconds;
      if (entry.expectedSeconds !== undefined) holder.expectedSeconds = entry.expectedSeconds;
      chosen.push({ entry, job, holder });
    });
    await Promise.all(stale.map((e) => read(() => deps.ledger.removeWaiting(pool.name, e.key))));
    dropped += stale.length;
    if (chosen.length === 0) {
      if (dropped > 0 || fromKnown) continue;
      await scheduleNextDue(deps, pool.name, line, now);
      break;
    }
    if (!(await deps.ledger.admit(snap, chosen))) continue; // another instance changed the ledger: decide again
    const ids = chosen.map((c) => c.entry.jobId);
    admittedIds.push(...ids);
    const behind = (id: string) => (decision.backfilled?.includes(id) ? ` (backfilled: it cannot delay job ${decision.head!.jobId}, which waits for budget)` : "");
    for (const c of chosen) {
      const m = markAdmitted(deps, c.job, pool.name, behind(c.entry.jobId));
      // Handled here so that a failure before `marked` is awaited (or a later round's throw,
      // which abandons `marked`) is not an unhandled rejection; `marked` still rejects with it,
      // and the backup launch message covers a marking that never happened.
      m.catch(() => {});
      marking.push(m);
    }
  }
  return { admitted: admittedIds, marked: Promise.all(marking).then((all) => all.flat()) };
}

/**
 * Waiting → Admitted → Launching in one write: the marking claims the attempt (claim.ts),
 * so the inline launch that follows (flow.ts) goes straight to placing and creating the
 * group, one Table write and one round trip fewer before the PUT than marking and then
 * claiming. A delayed launch message backs it up should this instance die: it finds the
 * claim stale and takes it over (LAUNCH_CLAIM_SECONDS), looking for the group first.
 * Without the message (a queue outage), the reconciler does the same.
 */
async function markAdmitted(deps: Deps, known: Versioned<JobRecord>, pool: string, how: string): Promise<Next[]> {
  const now = deps.clock.now();
  const jobId = known.value.id;
  const r = await changeJob(
    deps,
    jobId,
    (job, move) => (job.state === "Waiting" ? claimAttempt(deps, job, move, now, { reason: `admitted to pool ${pool}${how}`, notBefore: undefined }) : undefined),
    known,
  );
  if (!r || isFinal(r.after.state)) {
    // Canceled (or gone) between the check and the admission: give the slot straight back.
    const attempt = (r?.after.attempts.length ?? 0) + 1;
    await deps.ledger.settle(pool, jobId, attempt, 0, 0, now);
    return [];
  }
  // The backup goes alongside the inline launch, not before it: the first PUT of a wave need not wait for a queue send
  // (and the outbox's coalescing). Should the send fail, or this process die first, the reconciler takes the stale claim over.
  deps.outbox.send("launch", { jobId }, BACKUP_LAUNCH_DELAY_SECONDS).catch((err: unknown) =>
    deps.log.warn(`job ${jobId}: its backup launch message could not be sent; if the inline launch fails too, the reconciler takes the claim over once it is stale: ${errorMessage(err)}`));
  return [{ step: "launch", jobId, backedUp: true, ...(r.changed ? { claimed: r.after } : {}) }];
}

/**
 * The head of the line, `wanted` entries at most; in a `longest-first` pool whose head has
 * expected run times, as much more as the tail plan looks at (`planView`): the plan needs
 * the whole rest of the line, and its length shows only in a read that comes back short.
 */
async function readLine(deps: Deps, pool: PoolConfig, wanted: number): Promise<WaitingEntry[]> {
  const line = await deps.ledger.waiting(pool.name, wanted);
  const view = planView(pool);
  if (pool.order !== "longest-first" || line.length < wanted || view <= wanted || line.at(-1)?.expectedSeconds === undefined) return line;
  return deps.ledger.waiting(pool.name, view);
}

/** How many entries a tail plan looks at: three per slot, and no more than 300, so a large pool's pump reads a bounded page. */
function planView(pool: PoolConfig): number {
  return Math.min(3 * pool.maxConcurrency, 300) + 1;
}

/**
 * The line in the order the free slots should take it: the tail plan's (slotPlan.ts) when
 * the read saw the whole line of a `longest-first` pool, else the line's own. Only jobs of
 * the head's priority that may start now are planned; the rest keep their places after them.
 * A read shorter than `planView` shows every job of the head's priority with an expected run
 * time even when readLine did not read further: it stopped at an entry without one, which
 * sorts after all of them, so either that entry is in the group (and there is no plan) or it
 * is of a lower priority (and the group is whole).
 */
function inPlannedOrder(pool: PoolConfig, snap: LedgerSnapshot, line: WaitingEntry[], now: Date): WaitingEntry[] {
  if (pool.order !== "longest-first" || line.length >= planView(pool)) return line;
  const nowMs = now.getTime();
  const ready = line.filter((e) => !(e.jobId in snap.holders) && !(e.notBefore && Date.parse(e.notBefore) > nowMs));
  const top = ready[0] && priorityOf(ready[0].key);
  const group = ready.filter((e) => priorityOf(e.key) === top);
  const holdOver = snap.holdOverSeconds ?? 0;
  const planned = planSlots({
    line: group,
    slots: pool.maxConcurrency,
    holderEnds: Object.values(snap.holders).map((h) => (h.expectedSeconds === undefined ? undefined : Date.parse(h.since) + (h.expectedSeconds + holdOver) * 1000)),
    nowMs,
    holdOverSeconds: snap.holdOverSeconds,
  });
  return planned ? [...planned, ...line.filter((e) => !group.includes(e))] : line;
}

/** When the line holds only jobs in retry backoff, wake the pool when the first is due. */
async function scheduleNextDue(deps: Deps, pool: string, line: WaitingEntry[], now: Date): Promise<void> {
  const due = line.map((e) => (e.notBefore ? Date.parse(e.notBefore) : NaN)).filter((t) => t > now.getTime());
  if (due.length === 0) return;
  await deps.outbox.send("pump", { pool }, (Math.min(...due) - now.getTime()) / 1000);
}
