/**
 * ACI bills "from the time that we start to pull your first container's image … until the
 * container group is stopped", per second. A group can run several times (start, restart,
 * Spot eviction, update), so its meter is a list of intervals, each with the group's size
 * at the time. Pure arithmetic.
 */
export interface BillingInterval {
  start: number;
  /** Undefined while the group is still billed. */
  end?: number;
  cpu: number;
  memoryInGB: number;
}

/**
 * What the meter needs to know of a group, deleted or not: who it was, its size, and its
 * intervals. A live ContainerGroup is one; so is a deleted group restored from a state
 * file, which keeps nothing else.
 */
export interface MeteredGroup {
  readonly ref: { readonly subscriptionId: string; readonly resourceGroup: string; readonly name: string; readonly id: string };
  readonly spec: { readonly region: string; readonly priority: "Regular" | "Spot"; readonly cpu: number; readonly memoryInGB: number };
  readonly deleted: boolean;
  readonly createdAt: number;
  readonly deletedAt?: number;
  readonly billing: readonly BillingInterval[];
}

export interface MeterReading {
  /** Exact billed time in seconds, summed over intervals. */
  seconds: number;
  /** Each interval rounded up to a whole second, then summed. */
  billedSeconds: number;
  /** Billed seconds × vCPU, per interval. */
  vcpuSeconds: number;
  /** Billed seconds × GB of memory, per interval. */
  gbSeconds: number;
}

export function intervalSeconds(interval: BillingInterval, now: number): number {
  return Math.max(0, (interval.end ?? now) - interval.start) / 1000;
}

export function readMeter(intervals: readonly BillingInterval[], now: number): MeterReading {
  let seconds = 0;
  let billedSeconds = 0;
  let vcpuSeconds = 0;
  let gbSeconds = 0;
  for (const interval of intervals) {
    const s = intervalSeconds(interval, now);
    // Each interval is rounded on its own: a run of 0.2 s is still a billed second.
    // The epsilon keeps float noise (3.0000000001 s) from adding a second.
    const billed = Math.ceil(s - 1e-9);
    seconds += s;
    billedSeconds += billed;
    vcpuSeconds += billed * interval.cpu;
    gbSeconds += billed * interval.memoryInGB;
  }
  return { seconds: round6(seconds), billedSeconds, vcpuSeconds: round6(vcpuSeconds), gbSeconds: round6(gbSeconds) };
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
