/**
 * Array jobs: one parent record and up to 10,000 children, each a job of its own with
 * id `<parent>-<index>` and BURST_ARRAY_INDEX / BURST_ARRAY_SIZE in its environment.
 *
 * Children are made lazily, in index order: only as many exist unfinished as the array
 * may run (its `parallelism`, else a window a little larger than the pool), and at most
 * ARRAY_CHUNK per step, so 10,000 children never make one long invocation or one huge
 * write. Each step first creates the children (idempotent: same id, `createJob` refuses a
 * second), puts them in the pool's line, and only then advances the parent's `created`
 * cursor; a crash in between leaves children the next step creates again as no-ops. No
 * child is lost, none is made twice, and the pool's admission sees them in index order
 * (they share the parent's priority and creation time, and their ids sort by index).
 *
 * A child's end is noted in the parent (its mark, cost and billed seconds, once) by the
 * child's finish step; that note also decides the parent's end and makes the next
 * children. The reconciler re-notes the unfinished children of every live parent, as a
 * safety net. Canceling the parent stops making children and cancels the unfinished ones
 * (see cancel.ts); more failed children than `maxFailedIndexes`, or a failed child of a
 * `sequential` array, does the same and fails the parent.
 */
import pLimit from "p-limit";
import { ARRAY_ENV, type JobSpec } from "../jobSpec.js";
import type { ArrayProgress, JobRecord, JobState } from "../model.js";
import { changeJob, createJob, isFinal, type Move } from "../jobState.js";
import { lineEntry } from "./lineEntry.js";
import { roundUsd } from "../pricing.js";
import type { Deps } from "./deps.js";
import { poolOf } from "./pools.js";
import type { Next } from "./flow.js";
import { endedSteps, meets } from "./dependencies.js";
import { retryChildren } from "./arrayRetry.js";

/** The most children one step creates. */
export const ARRAY_CHUNK = 100;

export const childId = (parentId: string, index: number): string => `${parentId}-${String(index).padStart(5, "0")}`;

const MARK: Partial<Record<JobState, string>> = { Succeeded: "S", Failed: "F", TimedOut: "T", Canceled: "C", Rejected: "F" };

export function newArrayProgress(count: number): ArrayProgress {
  return { count, created: 0, marks: ".".repeat(count), billedSeconds: 0 };
}

/** Counts per state, and the failed indexes, from the marks (for the API and the parent's reasons). */
export function arrayCounts(a: ArrayProgress, parentFinal: boolean) {
  const counts = { Succeeded: 0, Failed: 0, TimedOut: 0, Canceled: 0, running: 0, notCreated: 0 };
  const failedIndexes: number[] = [];
  for (let i = 0; i < a.count; i++) {
    const m = a.marks[i];
    if (m === "S") counts.Succeeded++;
    else if (m === "F" || m === "T") {
      counts[m === "F" ? "Failed" : "TimedOut"]++;
      failedIndexes.push(i);
    } else if (m === "C") counts.Canceled++;
    else if (m === "r") {
      // Waits to be retried (retry --failed): it still counts as failed once nothing more will run.
      if (parentFinal || a.stopped) {
        counts.Failed++;
        failedIndexes.push(i);
      } else counts.notCreated++;
    } else if (i < a.created) counts.running++;
    else if (parentFinal || a.stopped) counts.Canceled++;
    else counts.notCreated++;
  }
  return { counts, failedIndexes };
}

/** How many children may be unfinished at once: the array's own cap, else enough to keep the pool's line fed. */
function window(parent: JobRecord, poolCap: number): number {
  const spec = parent.spec?.array;
  if (spec?.sequential) return 1;
  return spec?.parallelism ?? Math.max(2 * poolCap, 20);
}

function unfinished(a: ArrayProgress): number {
  let n = 0;
  for (let i = 0; i < a.created; i++) if (a.marks[i] === ".") n++;
  return n;
}

function childSpec(spec: JobSpec, index: number, count: number): JobSpec {
  const { array: _array, ...rest } = spec;
  return { ...rest, env: { ...rest.env, [ARRAY_ENV.index]: String(index), [ARRAY_ENV.size]: String(count) } };
}

/** Makes the next children the array may have now, and puts them in the line; the pump follows. */
export async function expandArray(deps: Deps, parentId: string): Promise<Next[]> {
  const got = await deps.jobs.get(parentId);
  const parent = got?.value;
  if (
    !parent?.array ||
    !parent.spec ||
    isFinal(parent.state) ||
    parent.cancelRequested ||
    parent.array.stopped ||
    parent.waitingFor?.length
  )
    return [];
  const pool = poolOf(deps, parent.pool);
  const a = parent.array;
  const from = a.created;
  // The first step makes only what the pool could start at once, so the first child launches soon.
  const step = parent.state === "Waiting" ? Math.min(ARRAY_CHUNK, Math.max(1, pool.maxConcurrency)) : ARRAY_CHUNK;
  const room = Math.min(Math.max(0, window(parent, pool.maxConcurrency) - unfinished(a)), step);
  // Children to retry (retry --failed) go first, in index order; then new ones.
  const picks: number[] = [];
  for (let i = a.marks.indexOf("r"); i >= 0 && picks.length < room; i = a.marks.indexOf("r", i + 1)) picks.push(i);
  let to = Math.min(a.count, from + room - picks.length);
  // n-to-n: child i waits for the other array's child i; one that can never be met is not made (marked Canceled).
  const { ready, skip } = await nToN(deps, parent, from, to);
  to = ready;
  if (to <= from && parent.state !== "Waiting" && picks.length === 0) return [];
  const again = await retryChildren(deps, parent, picks, pool.name);

  const limit = pLimit(16);
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => from + k)
      .filter((i) => !skip.has(i))
      .map((index) =>
        limit(async () => {
          const id = childId(parent.id, index);
          const spec = childSpec(parent.spec!, index, a.count);
          await createJob(deps, "Waiting", {
            id,
            pool: parent.pool,
            priority: parent.priority,
            labels: parent.labels,
            state: "Waiting",
            createdAt: parent.createdAt,
            updatedAt: parent.createdAt,
            spec,
            specDigest: parent.specDigest,
            // The parent's shape and estimate: its children teach and use the array's shape, not one per index.
            estimate: parent.estimate,
            sealedSecureEnv: parent.sealedSecureEnv,
            sealedEventSecret: parent.sealedEventSecret,
            eventsFromPool: parent.eventsFromPool,
            sealedFor: parent.sealedSecureEnv || parent.sealedEventSecret ? (parent.sealedFor ?? parent.id) : undefined,
            parent: { id: parent.id, index },
            name: parent.name ? `${parent.name}[${index}]` : undefined,
            source: parent.source,
            attempts: [],
            platformFailures: 0,
            ownFailures: 0,
            monitorSeq: 0,
            log: { lines: 0, bytes: 0 },
            costUsd: 0,
            reason: "waiting for a slot",
          });
          await deps.ledger.addWaiting(
            pool.name,
            lineEntry({ id, priority: parent.priority, createdAt: parent.createdAt, spec, notBefore: undefined }, pool),
          );
        }),
      ),
  );

  let late = false;
  await changeJob(deps, parent.id, (p, move) => {
    if (!p.array) return undefined;
    // Children made after a stop or an end are canceled below; the cursor still counts them.
    late = isFinal(p.state) || !!p.cancelRequested || !!p.array.stopped;
    const created = Math.max(p.array.created, to);
    // A retried child's cost so far leaves the roll-up: its end adds its whole cost again.
    const back = again.filter((c) => p.array!.marks[c.index] === "r");
    const marks = [...p.array.marks]
      .map((m, i) => (skip.has(i) && m === "." ? "C" : m === "r" && back.some((c) => c.index === i) ? "." : m))
      .join("");
    let next =
      created === p.array.created && marks === p.array.marks
        ? p
        : {
            ...p,
            costUsd: roundUsd(p.costUsd - back.reduce((s, c) => s + c.costUsd, 0)),
            array: { ...p.array, created, marks, billedSeconds: p.array.billedSeconds - back.reduce((s, c) => s + c.billedSeconds, 0) },
          };
    if (skip.size && !late) next = decideParent(next, move);
    if (p.state !== "Waiting" || late || isFinal(next.state)) return next === p ? undefined : next;
    return move(next, "Running", { reason: `running its ${p.array.count} children` });
  });
  const steps: Next[] = [{ step: "pump", pool: pool.name }];
  if (late) for (let i = from; i < to; i++) steps.push({ step: "cancel", jobId: childId(parent.id, i) });
  return steps;
}

const STATE_OF: Record<string, JobState> = { S: "Succeeded", F: "Failed", T: "TimedOut", C: "Canceled" };

/** How far (from `from`, below `to`) n-to-n dependencies let the array make children, and which indexes can never run. */
async function nToN(deps: Deps, parent: JobRecord, from: number, to: number): Promise<{ ready: number; skip: Set<number> }> {
  const skip = new Set<number>();
  const pairs = (parent.spec?.dependsOn ?? []).filter((d) => d.mode === "n-to-n");
  if (pairs.length === 0) return { ready: to, skip };
  const others = await Promise.all(pairs.map(async (d) => ({ on: d.on, marks: (await deps.jobs.get(d.job))?.value.array?.marks })));
  for (let i = from; i < to; i++) {
    for (const o of others) {
      const m = o.marks?.[i];
      const ok = m === undefined ? false : m === "." ? undefined : meets(o.on, STATE_OF[m]!);
      if (ok === undefined) return { ready: i, skip };
      if (!ok) skip.add(i);
    }
  }
  return { ready: to, skip };
}

/** Notes that child `index` ended (once), decides whether the parent ends, and makes the next children. */
export async function noteChildEnded(deps: Deps, parentId: string, index: number): Promise<Next[]> {
  const child = (await deps.jobs.get(childId(parentId, index)))?.value;
  if (!child || !isFinal(child.state)) return [];
  const billed = child.attempts.reduce((s, x) => s + (x.billedSeconds ?? 0), 0);
  let stopping = false;
  const r = await changeJob(deps, parentId, (p, move) => {
    if (!p.array || p.array.marks[index] !== ".") return undefined;
    const a = p.array;
    const marks = a.marks.slice(0, index) + (MARK[child.state] ?? "C") + a.marks.slice(index + 1);
    const next: JobRecord = {
      ...p,
      costUsd: roundUsd(p.costUsd + child.costUsd),
      array: { ...a, marks, billedSeconds: a.billedSeconds + billed },
    };
    const decided = decideParent(next, move);
    stopping = !!decided.array?.stopped && !a.stopped;
    return decided;
  });
  const parent = r?.after;
  if (!parent?.array) return [];
  // Arrays that wait on this one n-to-n may make their child `index` now.
  const steps: Next[] = (parent.dependents ?? []).map((id) => ({ step: "array", parentId: id }));
  if (stopping) steps.push(...liveChildren(parent).map((jobId): Next => ({ step: "cancel", jobId })));
  if (r?.changed && isFinal(parent.state) && !isFinal(r.before.state)) steps.push(...endedSteps(parent));
  else if (!isFinal(parent.state)) steps.push({ step: "array", parentId });
  return steps;
}

/** The ids of children made and not ended. */
export function liveChildren(parent: JobRecord): string[] {
  const a = parent.array!;
  const out: string[] = [];
  for (let i = 0; i < a.created; i++) if (a.marks[i] === ".") out.push(childId(parent.id, i));
  return out;
}

/**
 * The parent's next state from its marks: stopped when more children failed than it
 * allows (or any, in a sequential array); ended once nothing of it can still run.
 */
export function decideParent(p: JobRecord, move: Move): JobRecord {
  const a = p.array!;
  if (isFinal(p.state)) return p;
  const { counts, failedIndexes } = arrayCounts(a, false);
  const spec = p.spec?.array;
  const failed = failedIndexes.length;
  const tooMany = spec?.maxFailedIndexes !== undefined && failed > spec.maxFailedIndexes;
  const brokenChain = spec?.sequential && (failed > 0 || counts.Canceled > 0);
  let next = p;
  if ((tooMany || brokenChain) && !a.stopped) next = { ...p, array: { ...a, stopped: true } };
  const stopped = next.array!.stopped || p.cancelRequested;
  if (counts.running > 0 || (!stopped && counts.notCreated > 0)) return next;

  const shown = failedIndexes.slice(0, 20).join(", ") + (failed > 20 ? ", …" : "");
  let to: JobState;
  let reason: string;
  if (p.cancelRequested && !tooMany && !brokenChain) [to, reason] = ["Canceled", "canceled; its unfinished children were canceled"];
  else if (tooMany)
    [to, reason] = [
      "Failed",
      `${failed} children failed, more than maxFailedIndexes ${spec!.maxFailedIndexes} (indexes ${shown}); the rest were canceled`,
    ];
  else if (brokenChain)
    [to, reason] = [
      "Failed",
      `child ${failedIndexes[0] ?? a.marks.indexOf("C")} of the sequential array did not succeed; the children after it were canceled`,
    ];
  else if (failed > 0) [to, reason] = ["Failed", `${failed} of ${a.count} children failed (indexes ${shown})`];
  else if (counts.Canceled > 0)
    [to, reason] = ["Failed", `${counts.Canceled} of ${a.count} children were canceled (their n-to-n dependency was not met)`];
  else [to, reason] = ["Succeeded", `all ${a.count} children succeeded`];
  // Fill the marks of children never made, so the record says what became of every index.
  const marks = a.marks
    .split("")
    .map((m, i) => (m === "." && i >= next.array!.created ? "C" : m === "r" ? "F" : m))
    .join("");
  next = { ...next, array: { ...next.array!, marks } };
  if (to === "Canceled" && next.state === "Waiting") return move(next, "Canceled", { reason });
  if (next.state === "Waiting") next = move(next, "Running", {});
  return move(move(next, "Finishing", {}), to, { reason });
}
