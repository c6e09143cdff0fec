/**
 * Lower bounds on the makespan of a workload, whatever the scheduler.
 *
 * Each job occupies a slot for at least its provisioning plus its run time
 * (`occupancy`: from the emulator receiving its PUT to its container's exit). With C
 * slots the makespan is at least Σ occupancy / C and at least the longest occupancy; and
 * with a create window of W per 5 minutes, the (k·W + 1)-th create cannot happen before
 * k × 5 minutes, so the last job cannot end before that plus the shortest occupancy.
 *
 * The FIFO bound is not a lower bound for every scheduler, but for every first-come
 * first-served one: a zero-overhead list schedule in submission order. The gap between
 * it and the ideal is the cost of not knowing run times in advance, which no dispatcher
 * that starts jobs in order can avoid; the gap between it and a measured run is the
 * dispatcher's own overhead. The longest-first schedule (LPT) shows what ordering by
 * known run times would reach.
 */

export interface CreateWindows {
  per5Min: number;
  perHour: number;
}

export interface IdealBound {
  /** max of the three below, seconds. */
  seconds: number;
  workPerSlot: number;
  longestJob: number;
  createRate: number;
  /** Zero-overhead first-come first-served list schedule, seconds. */
  fifo: number;
  /** Zero-overhead longest-first list schedule (needs run times in advance), seconds. */
  longestFirst: number;
}

export function idealBound(occupancySeconds: readonly number[], cap: number, windows: CreateWindows): IdealBound {
  const n = occupancySeconds.length;
  const sum = occupancySeconds.reduce((a, b) => a + b, 0);
  const shortest = n ? Math.min(...occupancySeconds) : 0;
  const longestJob = n ? Math.max(...occupancySeconds) : 0;
  const workPerSlot = sum / cap;
  const createRate = n
    ? Math.max(300 * Math.floor((n - 1) / windows.per5Min), 3600 * Math.floor((n - 1) / windows.perHour)) + shortest
    : 0;
  return {
    seconds: Math.max(workPerSlot, longestJob, createRate),
    workPerSlot,
    longestJob,
    createRate,
    fifo: fifoMakespan(occupancySeconds, cap),
    longestFirst: fifoMakespan([...occupancySeconds].sort((a, b) => b - a), cap),
  };
}

/** Greedy list schedule in the given order: each job takes the slot that frees first. */
export function fifoMakespan(occupancySeconds: readonly number[], cap: number): number {
  const slots = new Array<number>(Math.max(1, cap)).fill(0);
  let end = 0;
  for (const o of occupancySeconds) {
    let k = 0;
    for (let i = 1; i < slots.length; i++) if (slots[i]! < slots[k]!) k = i;
    slots[k]! += o;
    end = Math.max(end, slots[k]!);
  }
  return end;
}
