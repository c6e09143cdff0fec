/**
 * `retry --failed` of an array: a new attempt of only its failed children. The parent
 * (Failed) runs again with those indexes marked "r"; array.ts's expand step then moves
 * each such child back to Waiting (Failed/TimedOut → Waiting, its retry counts reset) and
 * into the line, in index order and within the array's parallelism, before any new child.
 * Every step is safe to repeat: a child already moved is not moved again, and a mark
 * turns from "r" to "." (taking the child's earlier cost out of the roll-up) once.
 */
import type { JobRecord } from "../model.js";
import { changeJob } from "../jobState.js";
import { lineEntry } from "./lineEntry.js";
import type { Deps } from "./deps.js";
import { poolOf } from "./pools.js";
import type { Next } from "./flow.js";

export type RetryResult =
  | { outcome: "retrying"; job: JobRecord; indexes: number[]; next: Next[] }
  | { outcome: "notFound" }
  | { outcome: "refused"; job: JobRecord; why: string };

/** Marks the failed children of a Failed array parent for another attempt, and runs the parent again. */
export async function retryFailedStep(deps: Deps, parentId: string): Promise<RetryResult> {
  let why = "";
  let indexes: number[] = [];
  const r = await changeJob(deps, parentId, (p, move) => {
    indexes = [];
    if (!p.array) return void (why = `job ${p.id} is not an array: only an array's failed children can be retried`);
    if (p.state !== "Failed") return void (why = `job ${p.id} is ${p.state}: only a Failed array can retry its failed children`);
    for (let i = 0; i < p.array.count; i++) if (p.array.marks[i] === "F" || p.array.marks[i] === "T") indexes.push(i);
    if (indexes.length === 0) return void (why = `job ${p.id} has no failed children to retry`);
    const marks = [...p.array.marks].map((m) => (m === "F" || m === "T" ? "r" : m)).join("");
    return move(p, "Running", {
      array: { ...p.array, marks, stopped: undefined },
      cancelRequested: undefined,
      finishedAt: undefined,
      reason: `retrying its ${indexes.length} failed children (indexes ${indexes.slice(0, 20).join(", ")}${indexes.length > 20 ? ", …" : ""})`,
    });
  });
  if (!r) return { outcome: "notFound" };
  if (!r.changed) return { outcome: "refused", job: r.after, why };
  return { outcome: "retrying", job: r.after, indexes, next: [{ step: "array", parentId }] };
}

/** Moves these children back to Waiting and into the line; answers what each had cost, to take out of the roll-up. */
export async function retryChildren(
  deps: Deps,
  parent: JobRecord,
  indexes: number[],
  poolName: string,
): Promise<{ index: number; costUsd: number; billedSeconds: number }[]> {
  const pool = poolOf(deps, poolName);
  const out: { index: number; costUsd: number; billedSeconds: number }[] = [];
  for (const index of indexes) {
    const id = `${parent.id}-${String(index).padStart(5, "0")}`;
    const r = await changeJob(deps, id, (j, move) =>
      j.state === "Failed" || j.state === "TimedOut"
        ? move(j, "Waiting", {
            reason: "retrying (retry --failed of its array)",
            ownFailures: 0,
            platformFailures: 0,
            notBefore: undefined,
            cancelRequested: undefined,
            exitCode: undefined,
            finishedAt: undefined,
          })
        : undefined,
    );
    if (!r || r.after.state !== "Waiting" || !r.after.spec) continue;
    await deps.ledger.addWaiting(pool.name, lineEntry({ ...r.after, spec: r.after.spec, notBefore: undefined }, pool));
    out.push({ index, costUsd: r.before.costUsd, billedSeconds: r.before.attempts.reduce((s, a) => s + (a.billedSeconds ?? 0), 0) });
  }
  return out;
}
