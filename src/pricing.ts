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

/** The run time after which a job must be stopped: its timeout, or when it would pass its cost cap. */
export function effectiveLimitSeconds(
  spec: { cpu: number; memoryGb: number; timeoutSeconds?: number; maxCostUsd?: number },
  prices: PriceTable,
): number | undefined {
  const rate = costPerSecond(spec.cpu, spec.memoryGb, prices);
  const byCap = spec.maxCostUsd !== undefined && rate > 0 ? spec.maxCostUsd / rate : undefined;
  const limits = [spec.timeoutSeconds, byCap].filter((x): x is number => x !== undefined);
  return limits.length ? Math.min(...limits) : undefined;
}
