/**
 * The tail plan of a `longest-first` pool, pure: which waiting jobs the free slots should
 * take now so that the slots end together.
 *
 * Longest-first alone (LPT) leaves a batch's slots ending unevenly: on the benchmark's
 * workload its zero-overhead schedule ends at 1.05 × Σ work / slots, and no longest-first
 * dispatcher, however fast, does better. Once the whole rest of the line is in view, the
 * pump plans it instead: every waiting job is laid onto the slots, longest first onto the
 * slot that ends first (each busy slot ending when its holder is expected to), then jobs are
 * moved or swapped off the slot that ends last while that makes it end sooner. A free slot
 * takes the longest job planned for it; one the plan leaves empty takes the shortest job left,
 * so no slot idles while work waits. The plan is made again at every pump, so it follows
 * what actually happened.
 *
 * A plan is only as good as the times it adds up, so it counts a job's slot time as its
 * expected run time plus the hold-over the pool measured (how much longer than expected its
 * succeeded jobs held their slots: provisioning, dispatch, detection; see ledgerStore.ts settle).
 * Counting jobs too short packs too many onto one slot, which is worse than longest-first,
 * so without a measured hold-over there is no plan. Nor is there one when a waiting job or a
 * holder has no expected run time. The plan only orders jobs that may all start now; the
 * admission decides as before (admission.ts), so the cap, the budget and backfill are as safe.
 */

/** What the plan needs of a waiting job. */
export interface Plannable {
  jobId: string;
  expectedSeconds?: number;
}

export interface SlotPlanInput<T extends Plannable> {
  /** The waiting jobs that may start now, in the line's order (longest first); all of them. */
  line: readonly T[];
  slots: number;
  /** When each holder is expected to free its slot (epoch ms); undefined when it has no expected run time. */
  holderEnds: readonly (number | undefined)[];
  nowMs: number;
  /** The pool's measured hold-over, seconds; undefined: not measured yet. */
  holdOverSeconds: number | undefined;
}

/** Moves and swaps tried at most: the plan's cost stays bounded whatever the line. */
const MAX_IMPROVEMENTS = 2_000;
/** A planned slot time is never less than this, whatever the hold-over says. */
const MIN_SLOT_SECONDS = 1;

/**
 * The line reordered: first, for each free slot, the job it should take now (longest of
 * them first), then the rest in the line's order. Undefined when there is nothing to plan
 * (see the module comment); the line's own order then stands.
 */
export function planSlots<T extends Plannable>(input: SlotPlanInput<T>): T[] | undefined {
  const { line, slots, holderEnds, nowMs, holdOverSeconds } = input;
  const free = slots - holderEnds.length;
  if (free <= 0 || line.length <= 1 || holdOverSeconds === undefined) return undefined;
  if (line.some((j) => j.expectedSeconds === undefined) || holderEnds.some((e) => e === undefined)) return undefined;
  const cost = line.map((j) => Math.max(MIN_SLOT_SECONDS, j.expectedSeconds! + holdOverSeconds) * 1000);

  // Slot loads: when each slot would end with what is planned on it. The free slots come first.
  const load = [...new Array<number>(free).fill(nowMs), ...holderEnds.map((e) => Math.max(nowMs, e!))];
  const planned: number[][] = load.map(() => []);
  const byLength = line.map((_, i) => i).sort((a, b) => cost[b]! - cost[a]!);
  for (const i of byLength) {
    const s = argMin(load);
    load[s]! += cost[i]!;
    planned[s]!.push(i);
  }
  improve(load, planned, cost);

  const first: number[] = [];
  for (let s = 0; s < free; s++) {
    const mine = planned[s]!;
    if (mine.length > 0) first.push(mine.reduce((a, b) => (cost[b]! > cost[a]! ? b : a)));
  }
  // Work-conserving: a free slot the plan leaves empty still takes a job, the shortest left.
  const left = byLength.filter((i) => !first.includes(i));
  while (first.length < free && left.length > 0) first.push(left.pop()!);
  first.sort((a, b) => cost[b]! - cost[a]!);
  const rest = line.filter((_, i) => !first.includes(i));
  return [...first.map((i) => line[i]!), ...rest];
}

/** Moves a job off the slot that ends last, or swaps one of its jobs for a shorter one, while that ends it sooner. */
function improve(load: number[], planned: number[][], cost: number[]): void {
  for (let step = 0; step < MAX_IMPROVEMENTS; step++) {
    const top = argMax(load);
    if (!betterOnce(top)) return;
  }
  function betterOnce(top: number): boolean {
    const order = load.map((_, s) => s).sort((a, b) => load[a]! - load[b]!);
    for (const other of order) {
      if (other === top) continue;
      for (const [ai, a] of planned[top]!.entries()) {
        if (load[other]! + cost[a]! < load[top]!) {
          planned[top]!.splice(ai, 1);
          planned[other]!.push(a);
          load[top]! -= cost[a]!;
          load[other]! += cost[a]!;
          return true;
        }
        for (const [bi, b] of planned[other]!.entries()) {
          const delta = cost[a]! - cost[b]!;
          if (delta > 0 && load[other]! + delta < load[top]!) {
            planned[top]![ai] = b;
            planned[other]![bi] = a;
            load[top]! -= delta;
            load[other]! += delta;
            return true;
          }
        }
      }
    }
    return false;
  }
}

function argMin(xs: readonly number[]): number {
  let k = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[k]!) k = i;
  return k;
}

function argMax(xs: readonly number[]): number {
  let k = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[k]!) k = i;
  return k;
}
