/**
 * Placements: where a pool's container groups may go. A pool has an ordered list of them;
 * each is a subscription, resource group and region, a priority (Regular or Spot), the
 * prices there, and the quota that applies there. ACI's quotas are per subscription and
 * region (container groups, cores; creates per 5 minutes and per hour), so every pool
 * using the same subscription and region shares them: what is in use there is kept in
 * storage (store/placementStore.ts), and this module holds the pure arithmetic.
 */
import { z } from "zod";
import type { PriceTable } from "./pricing.js";

/** ACI's defaults per subscription and region (ACI quotas page, see /work/shared/NOTES.md "Limits"). */
export const ACI_DEFAULT_LIMITS = { groups: 100, cores: 100, createsPer5Min: 100, createsPerHour: 300 } as const;

/** ACI Spot container groups: at most 4 vCPU and 16 GB each, and no public IP (ACI Spot containers overview). */
export const SPOT_MAX_CPU = 4;
export const SPOT_MAX_MEMORY_GB = 16;

export const limitsSchema = z.strictObject({
  groups: z.number().int().min(1).max(100_000).default(ACI_DEFAULT_LIMITS.groups),
  cores: z.number().positive().max(1_000_000).default(ACI_DEFAULT_LIMITS.cores),
  createsPer5Min: z.number().int().min(1).max(100_000).default(ACI_DEFAULT_LIMITS.createsPer5Min),
  createsPerHour: z.number().int().min(1).max(1_000_000).default(ACI_DEFAULT_LIMITS.createsPerHour),
});

export type PlacementLimits = z.output<typeof limitsSchema>;
export type Priority = "Regular" | "Spot";

export interface Placement {
  /** `subscription/resourceGroup/region/priority`: names the placement in attempts, views and logs. */
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  region: string;
  priority: Priority;
  prices: PriceTable;
  limits: PlacementLimits;
}

export function placementId(p: { subscriptionId: string; resourceGroup: string; region: string; priority: Priority }): string {
  return `${p.subscriptionId}/${p.resourceGroup}/${p.region}/${p.priority}`;
}

/** Prices that bound every placement's: what admission reserves against the budget must cover wherever the job lands. */
export function highestPrices(placements: readonly Placement[]): PriceTable {
  if (placements.length === 1) return placements[0]!.prices;
  return {
    vcpuSecondUsd: Math.max(...placements.map((p) => p.prices.vcpuSecondUsd)),
    gbSecondUsd: Math.max(...placements.map((p) => p.prices.gbSecondUsd)),
    source: `the highest of the pool's placements' prices (${placements.map((p) => p.id).join(", ")})`,
    date: placements
      .map((p) => p.prices.date)
      .sort()
      .at(-1)!,
  };
}

export type SpotChoice = "never" | "preferred" | "required";

/**
 * The placements a job may use, in the order to try them: `never` keeps to Regular ones,
 * `required` to Spot ones, and `preferred` tries the Spot ones first, then the Regular
 * ones; within each kind the pool's order holds. A job too big for Spot, or asking for a
 * public IP, cannot run on Spot at all.
 */
export function placementOrder(
  placements: readonly Placement[],
  spot: SpotChoice,
  job: { cpu: number; memoryGb: number; publicIp?: boolean },
): Placement[] {
  const spotFits = job.cpu <= SPOT_MAX_CPU && job.memoryGb <= SPOT_MAX_MEMORY_GB && !job.publicIp;
  const spots = spotFits ? placements.filter((p) => p.priority === "Spot") : [];
  const regulars = placements.filter((p) => p.priority === "Regular");
  if (spot === "never") return regulars;
  if (spot === "required") return spots;
  return [...spots, ...regulars];
}

/** Why a job can never run in this pool for want of a placement, or undefined when it can. */
export function noPlacementFor(
  placements: readonly Placement[],
  spot: SpotChoice,
  job: { cpu: number; memoryGb: number; publicIp?: boolean },
): string | undefined {
  if (placementOrder(placements, spot, job).length > 0) return undefined;
  if (spot === "required") {
    if (!placements.some((p) => p.priority === "Spot")) return 'is "required" but the pool has no Spot placement';
    return `is "required" but ACI Spot groups take at most ${SPOT_MAX_CPU} vCPU and ${SPOT_MAX_MEMORY_GB} GB and no public IP (job: ${job.cpu} vCPU, ${job.memoryGb} GB${job.publicIp ? ", publicIp" : ""})`;
  }
  return `is "${spot}" but the pool has no Regular placement${spot === "preferred" ? " and the job cannot run on Spot (at most 4 vCPU, 16 GB, no public IP)" : ""}`;
}

/** What is held and created in one subscription and region, as stored. */
export interface QuotaUse {
  /** Per attempt (`jobId#n`): the vCPU it holds there, and which placement holds it. */
  holders: Record<string, { cores: number; placement: string; createdAt?: number; deleteCountedAt?: number }>;
  /**
   * The creates sent in the last hour, as `[epoch second, how many]`, oldest first: one entry
   * per second however high a raised quota lets the rate go (at most 3,600).
   */
  creates: [number, number][];
  /** The deletes sent in the last hour, the same way: ACI paces deletes with the same windows as creates. */
  deletes: [number, number][];
  /** Per placement id: its circuit breaker. */
  breakers: Record<string, Breaker>;
}

export interface Breaker {
  /** Consecutive capacity or quota refusals. */
  failures: number;
  /** Not tried again before this (ISO). */
  until: string;
  reason: string;
  /**
   * Once the cooldown is over, one launch probes the placement; the others skip it until
   * this (ISO), when the probe's answer is in, or overdue (its launcher died) and another may go.
   */
  probeUntil?: string;
}

/** How long the other launches leave a placement alone while one probes it. */
export const PROBE_SECONDS = 60;

/** The first cooldown after a refusal; it doubles with each refusal in a row, up to the cap. */
export const COOLDOWN_BASE_SECONDS = 30;
export const COOLDOWN_MAX_SECONDS = 15 * 60;

export function cooldownSeconds(failures: number): number {
  return Math.min(COOLDOWN_MAX_SECONDS, COOLDOWN_BASE_SECONDS * 2 ** Math.max(0, failures - 1));
}

export type RoomVerdict =
  { ok: true } | { ok: false; why: "cooling" | "groups" | "cores" | "creates" | "deletes"; retryAt: number; detail: string };

/**
 * Burst counts a create when it reserves room, just before the PUT, and ACI when the PUT
 * arrives: a window Burst sees reopen may not have reopened at ACI yet. Counting a
 * little longer than the window keeps the first call after it from a 429.
 */
export const WINDOW_MARGIN_SECONDS = 2;

/** Whether a call counted at `t` (epoch seconds) still counts in a window of `windowS` at `nowS`, margin included. */
export function inWindow(t: number, nowS: number, windowS: number): boolean {
  return t > nowS - windowS - WINDOW_MARGIN_SECONDS;
}

export function createsIn(use: QuotaUse, nowS: number, windowS: number): number {
  let n = 0;
  for (const [t, k] of use.creates) if (inWindow(t, nowS, windowS)) n += k;
  return n;
}

/** Counts one call at `nowS` (whole epoch seconds) in a creates or deletes list, kept oldest first. */
export function countCall(calls: [number, number][], nowS: number): void {
  let i = calls.length;
  while (i > 0 && calls[i - 1]![0] > nowS) i--;
  if (i > 0 && calls[i - 1]![0] === nowS) calls[i - 1]![1]++;
  else calls.splice(i, 0, [nowS, 1]);
}

/** Takes back one call counted at `atS` (a create ACI refused outright). */
export function uncountCall(calls: [number, number][], atS: number): void {
  const i = calls.findIndex(([t]) => t === atS);
  if (i < 0) return;
  if (calls[i]![1] > 1) calls[i]![1]--;
  else calls.splice(i, 1);
}

/** Creates or deletes as stored: `[second, count]` pairs, or (creates in rows written before) one epoch second per call. */
export function callsFrom(stored: unknown): [number, number][] {
  if (!Array.isArray(stored)) return [];
  const pairs = stored.map((c): [number, number] => (Array.isArray(c) ? [Number(c[0]), Number(c[1])] : [Number(c), 1]));
  return pairs.sort((a, b) => a[0] - b[0]);
}

/**
 * Whether one more group of `cores` vCPU fits this placement now: its breaker is closed,
 * and the subscription-and-region's groups, cores and create windows have room. `retryAt`
 * (epoch ms) says when it is worth asking again.
 */
export function room(use: QuotaUse, p: Placement, cores: number, nowMs: number): RoomVerdict {
  const nowS = nowMs / 1000;
  const b = use.breakers[p.id];
  if (b && Date.parse(b.until) > nowMs)
    return { ok: false, why: "cooling", retryAt: Date.parse(b.until), detail: `cooling down until ${b.until} after ${b.reason}` };
  if (b?.probeUntil && Date.parse(b.probeUntil) > nowMs)
    return {
      ok: false,
      why: "cooling",
      retryAt: Date.parse(b.probeUntil),
      detail: `being probed after ${b.reason} (until ${b.probeUntil} at the latest)`,
    };
  const held = Object.values(use.holders);
  const soon = nowMs + 5_000;
  if (held.length + 1 > p.limits.groups)
    return { ok: false, why: "groups", retryAt: soon, detail: `${held.length} of ${p.limits.groups} container groups in use` };
  const usedCores = held.reduce((s, h) => s + h.cores, 0);
  if (usedCores + cores > p.limits.cores + 1e-9)
    return { ok: false, why: "cores", retryAt: soon, detail: `${usedCores} of ${p.limits.cores} cores in use, ${cores} more asked` };
  return windowRoom(use.creates, p, nowS, "creates") ?? { ok: true };
}

/** Whether ACI's delete windows in this subscription and region take one more delete now. */
export function deleteRoom(use: QuotaUse, p: Placement, nowMs: number): RoomVerdict {
  return windowRoom(use.deletes, p, nowMs / 1000, "deletes") ?? { ok: true };
}

/** The 5-minute and hour windows' refusal of one more call, or undefined when both have room. */
function windowRoom(
  calls: [number, number][],
  p: Placement,
  nowS: number,
  what: "creates" | "deletes",
): Extract<RoomVerdict, { ok: false }> | undefined {
  for (const [windowS, limit] of [
    [300, p.limits.createsPer5Min],
    [3600, p.limits.createsPerHour],
  ] as const) {
    const counted = calls.filter(([t]) => inWindow(t, nowS, windowS));
    const count = counted.reduce((n, [, k]) => n + k, 0);
    if (count + 1 > limit) {
      // The window has room again when enough of its oldest calls have left it for one more.
      let toLeave = count + 1 - limit;
      let leaves = nowS;
      for (const [t, k] of counted) {
        toLeave -= k;
        if (toLeave <= 0) {
          leaves = t + windowS + WINDOW_MARGIN_SECONDS;
          break;
        }
      }
      return {
        ok: false,
        why: what,
        retryAt: Math.ceil(leaves * 1000),
        detail: `${count} of ${limit} ${what} in the last ${windowS / 60} minutes`,
      };
    }
  }
  return undefined;
}
