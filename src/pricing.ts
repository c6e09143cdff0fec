/**
 * What ACI charges, and the cost arithmetic. ACI bills per second "from the time that
 * we start to pull your first container's image … until the container group is
 * stopped" (ACI FAQ), for vCPU and memory.
 */

export interface PriceTable {
  /** USD per vCPU-second. */
  vcpuSecondUsd: number;
  /** USD per GB-second. */
  gbSecondUsd: number;
  source: string;
  date: string;
}

/**
 * Built-in, dated rates: Azure Retail Prices API,
 * `serviceName eq 'Container Instances' and armRegionName eq 'eastus' and priceType eq 'Consumption'`,
 * Linux Standard "vCPU Duration" $0.0405 per vCPU-hour and "Memory Duration"
 * $0.00445 per GB-hour, as quoted in 2026. Other regions and SKUs: give the pool a
 * `prices` object from the same API.
 */
export const BUILT_IN_PRICES: Record<string, PriceTable> = {
  "eastus/Standard": {
    vcpuSecondUsd: 0.0405 / 3600,
    gbSecondUsd: 0.00445 / 3600,
    source: "Azure Retail Prices API, Container Instances, eastus, Linux Standard vCPU/Memory Duration",
    date: "2026",
  },
};

/** ACI bills whole seconds; a started second counts. */
export function billedSeconds(startMs: number, stopMs: number): number {
  return Math.max(0, Math.ceil((stopMs - startMs) / 1000 - 1e-9));
}

export function costPerSecond(cpu: number, memoryGb: number, prices: PriceTable): number {
  return cpu * prices.vcpuSecondUsd + memoryGb * prices.gbSecondUsd;
}

export function costUsd(seconds: number, cpu: number, memoryGb: number, prices: PriceTable): number {
  return roundUsd(seconds * costPerSecond(cpu, memoryGb, prices));
}

/** Money is kept to 1e-9 USD so sums of many small costs stay exact enough and comparable. */
export function roundUsd(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/**
 * The most a job can cost: its time limit (plus the enforcement slack, since a stop is
 * noticed by polling) at its rate, but never more than its own maxCostUsd cap plus the
 * same slack. Undefined when nothing bounds it.
 */
export function worstCaseUsd(
  spec: { cpu: number; memoryGb: number; timeoutSeconds?: number; maxCostUsd?: number },
  prices: PriceTable,
  slackSeconds: number,
): number | undefined {
  const rate = costPerSecond(spec.cpu, spec.memoryGb, prices);
  const slack = rate * slackSeconds;
  const byTime = spec.timeoutSeconds !== undefined ? rate * spec.timeoutSeconds : undefined;
  const byCap = spec.maxCostUsd;
  if (byTime === undefined && byCap === undefined) return undefined;
  return roundUsd(Math.min(byTime ?? Infinity, byCap ?? Infinity) + slack);
}

/**
 * How late a stop may come after its deadline: the poll message is delayed to the second
 * (up to 1 s), the host polls its queue at least every second (host.json), and the stop
 * is one ARM call. A cost cap's deadline is set this much before the cap.
 */
export const COST_CAP_MARGIN_SECONDS = 3;

/**
 * The run time after which a job must be stopped: its timeout, or early enough that its
 * cost stays within maxCostUsd. ACI rounds each run up to a whole second and the stop comes
 * up to COST_CAP_MARGIN_SECONDS late, so a cap of c allows billed ≤ floor(c / rate) seconds
 * and the deadline is that less the margin: the cap is a promise, not a target.
 */
export function effectiveLimitSeconds(
  spec: { cpu: number; memoryGb: number; timeoutSeconds?: number; maxCostUsd?: number },
  prices: PriceTable,
): number | undefined {
  const rate = costPerSecond(spec.cpu, spec.memoryGb, prices);
  const byCap = spec.maxCostUsd !== undefined && rate > 0 ? Math.max(0, Math.floor(spec.maxCostUsd / rate + 1e-9) - COST_CAP_MARGIN_SECONDS) : undefined;
  const limits = [spec.timeoutSeconds, byCap].filter((x): x is number => x !== undefined);
  return limits.length ? Math.min(...limits) : undefined;
}

/** The smallest maxCostUsd Burst can keep: a first second, and a stop up to the margin late. */
export function minimumCostCapUsd(spec: { cpu: number; memoryGb: number }, prices: PriceTable): number {
  return roundUsd(costPerSecond(spec.cpu, spec.memoryGb, prices) * (COST_CAP_MARGIN_SECONDS + 1));
}

/**
 * How an attempt's billing start was estimated:
 * - `pull-event`: the group's first "Pulling" event, which ACI stamps to the whole second
 *   (so the estimate may start up to a second early);
 * - `accepted`: no event was shown (live 2023-05-01 answers mostly show none), so billing is
 *   counted from when the create was sent, which is before the pull can have started: the
 *   estimate may be high by up to the time between that and the container's start.
 */
export type CostBasis = "pull-event" | "accepted";

export interface BillingStart {
  startMs: number;
  basis: CostBasis;
  /** The most the estimate can exceed what ACI bills, in seconds. It is never below it. */
  errorSeconds: number;
}

/**
 * When ACI started billing an attempt, as an upper bound on its cost: never later than the
 * truth, so the cost is never under-counted. `acceptedAt` is the earliest moment a PUT that
 * may have created the group was sent; billing cannot start before it.
 */
export function billingStart(args: { pullEvent?: string; acceptedAt?: string; startedAt?: string; stoppedAt: string }): BillingStart | undefined {
  const accepted = args.acceptedAt ? Date.parse(args.acceptedAt) : undefined;
  if (args.pullEvent) {
    const pull = Date.parse(args.pullEvent);
    return { startMs: accepted === undefined ? pull : Math.max(pull, accepted), basis: "pull-event", errorSeconds: 1 };
  }
  if (accepted === undefined) return undefined;
  // The pull began somewhere between the PUT and the container's start (or the stop, if it never started).
  const stop = Date.parse(args.stoppedAt);
  const latest = args.startedAt ? Math.min(Date.parse(args.startedAt), stop) : stop;
  return { startMs: accepted, basis: "accepted", errorSeconds: Math.max(0, Math.ceil((latest - accepted) / 1000 - 1e-9)) };
}
