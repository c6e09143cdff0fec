/**
 * The regions run's arithmetic, pure: when ACI's create windows let the k-th create happen
 * at the earliest, the makespan bound that follows, and the share of the windows used.
 *
 * Each placement (subscription × region) may create W5 groups in any 5 minutes and WH in
 * any hour (sliding windows, as the emulator and ACI count them), and none while its region
 * has no capacity. The earliest schedule is greedy: every placement creates as soon as both
 * windows and its capacity allow. Its k-th time, T_k, is the earliest any scheduler can make
 * its k-th create, so with the job occupancies sorted longest first,
 * makespan ≥ max_k (T_k + occupancy of the k-th longest job) — the longest jobs go first.
 */

export interface PlacementWindows {
  id: string;
  /** Seconds (from the start) during which the placement refuses creates: [from, to). */
  outage?: { from: number; to: number };
}

export interface Windows {
  per5Min: number;
  perHour: number;
}

/** Earliest create times of one placement, up to `count` of them, seconds from the start. */
export function earliestCreates(p: PlacementWindows, w: Windows, count: number): number[] {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    let t = times[k - 1] ?? 0;
    if (k >= w.per5Min) t = Math.max(t, times[k - w.per5Min]! + 300);
    if (k >= w.perHour) t = Math.max(t, times[k - w.perHour]! + 3600);
    if (p.outage && t >= p.outage.from && t < p.outage.to) t = p.outage.to;
    times.push(t);
  }
  return times;
}

/** Every placement's earliest creates, merged and sorted: the k-th is T_k. */
export function earliestSchedule(placements: PlacementWindows[], w: Windows, count: number): number[] {
  return placements
    .flatMap((p) => earliestCreates(p, w, count))
    .sort((a, b) => a - b)
    .slice(0, count);
}

/** max_k (T_k + k-th longest occupancy): no scheduler finishes all jobs sooner. */
export function regionsBound(
  placements: PlacementWindows[],
  w: Windows,
  occupancySeconds: number[],
): { seconds: number; lastCreate: number } {
  const t = earliestSchedule(placements, w, occupancySeconds.length);
  const longestFirst = [...occupancySeconds].sort((a, b) => b - a);
  let seconds = 0;
  for (let k = 0; k < t.length; k++) seconds = Math.max(seconds, t[k]! + longestFirst[k]!);
  return { seconds, lastCreate: t.at(-1) ?? 0 };
}

/**
 * Creates the windows allowed from the start up to `until` (inclusive), summed over the
 * placements, each losing its outage: the denominator of the sustained-create share.
 */
export function windowsAllowed(placements: PlacementWindows[], w: Windows, until: number): number {
  const most = Math.ceil((until + 1) / 300) * w.per5Min;
  return placements.reduce((sum, p) => sum + earliestCreates(p, w, most).filter((t) => t <= until).length, 0);
}
