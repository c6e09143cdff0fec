/**
 * The emulator's knobs: service limits (defaults are the live ACI values from the quotas
 * page), lifecycle timings, and injected faults. Input is validated eagerly and the
 * error names the bad field and value.
 */
import { z } from "zod";
import type { BucketLimit } from "./tokenBucket.js";
import type { LogCutLimits } from "./logs.js";
import type { ContainerEventsMode } from "./events.js";
import { ACI_LOG_LIMITS } from "./logs.js";

export interface EmulatorLimits {
  containerGroupsPerRegion: number;
  standardCoresPerRegion: number;
  maxCpuPerGroup: number;
  maxMemoryInGBPerGroup: number;
  spotMaxCpuPerGroup: number;
  spotMaxMemoryInGBPerGroup: number;
  maxContainersPerGroup: number;
  creates: { per5Min: number; perHour: number };
  deletes: { per5Min: number; perHour: number };
  armThrottling: { enabled: boolean; reads: BucketLimit; writes: BucketLimit; deletes: BucketLimit };
  listPageSize: number;
  logs: LogCutLimits;
}

export const DEFAULT_LIMITS: EmulatorLimits = {
  containerGroupsPerRegion: 100,
  standardCoresPerRegion: 100,
  maxCpuPerGroup: 31,
  maxMemoryInGBPerGroup: 240,
  spotMaxCpuPerGroup: 4,
  spotMaxMemoryInGBPerGroup: 16,
  maxContainersPerGroup: 60,
  creates: { per5Min: 100, perHour: 300 },
  deletes: { per5Min: 100, perHour: 300 },
  armThrottling: {
    enabled: true,
    reads: { capacity: 250, refillPerSecond: 25 },
    writes: { capacity: 200, refillPerSecond: 10 },
    deletes: { capacity: 200, refillPerSecond: 10 },
  },
  listPageSize: 100,
  logs: { ...ACI_LOG_LIMITS },
};

export interface EmulatorTimings {
  /** PUT accepted → image pull starts (group Pending, provisioningState Pending). */
  scheduleDelayMs: number;
  /** Pulling → Pulled. Billing starts with the pull. */
  pullDelayMs: number;
  /** Pulled → Started (provisioningState Succeeded). */
  startDelayMs: number;
  /** First back-off before a container is restarted under OnFailure/Always; doubles each time. */
  restartBackoffMs: number;
  maxRestartBackoffMs: number;
  /** Killing → Started when the platform restarts a container. */
  platformRestartDelayMs: number;
  /** Spot eviction → the group is pulled and started again. */
  spotRestartDelayMs: number;
  /** SIGTERM → SIGKILL when a container is stopped. */
  killGraceMs: number;
}

export const DEFAULT_TIMINGS: EmulatorTimings = {
  scheduleDelayMs: 0,
  pullDelayMs: 1000,
  startDelayMs: 250,
  restartBackoffMs: 1000,
  maxRestartBackoffMs: 30_000,
  platformRestartDelayMs: 500,
  spotRestartDelayMs: 2000,
  killGraceMs: 2000,
};

/**
 * How closely answers follow one or another recorded shape of the live service where the
 * recordings disagree (README.md, "Live behaviours").
 */
export interface EmulatorFidelity {
  /**
   * Container `instanceView.events`: `absent` (no key at all, as the live 2023-05-01
   * answers recorded on 2023-05-05 and 2023-04-26 show), `present` (Pulling, Pulled,
   * Started…, as the 2023-05-01 run of 2023-05-01 shows), or `late` (each event appears
   * `lateEventsMs` after it happened, newest first, as the 2024-05-01-preview answer lists them).
   */
  containerEvents: ContainerEventsMode;
  lateEventsMs: number;
  /** Operation polls say Creating while the image is pulled, as the 2019-12-01 recording shows (2023-05-01 ones go Pending → Succeeded). */
  operationCreating: boolean;
}

export const DEFAULT_FIDELITY: EmulatorFidelity = { containerEvents: "absent", lateEventsMs: 5000, operationCreating: false };

/**
 * What the Cost Management Query API reports from the billing meter: each billing
 * interval's cost becomes visible `reportDelayMs` after it ended (Azure takes hours; the
 * default is compressed so local runs see a bill), priced per vCPU-second and GB-second.
 */
export interface CostSettings {
  reportDelayMs: number;
  vcpuSecondUsd: number;
  gbSecondUsd: number;
}

/** East US Linux Standard, Azure Retail Prices API (2026): $0.0405 per vCPU-hour, $0.00445 per GB-hour. */
export const DEFAULT_COSTS: CostSettings = { reportDelayMs: 10_000, vcpuSecondUsd: 0.0405 / 3600, gbSecondUsd: 0.00445 / 3600 };

/** Which groups a fault applies to: named ones (exact, or a prefix ending in `*`), and/or any new group with probability `rate`. */
export interface Targeting {
  groups: string[];
  rate: number;
}

export interface FaultConfig {
  /** Seed of the random source behind every `rate`, so a run replays. */
  seed: number;
  /** Answer this fraction of ARM calls with one of `statusCodes` instead of handling them; `lostResponseRate` handles the call, then answers 500 anyway. */
  httpErrors: { rate: number; lostResponseRate: number; statusCodes: number[] };
  /** Every ARM call is throttled (429) until `activeUntil` (epoch ms). */
  throttleStorm: { activeUntil: number | null; retryAfterSeconds: number };
  /**
   * Creates fail with the capacity error: all creates in `regions`, plus targeted groups. `sync` answers the PUT with 409; `async` fails the operation.
   * With `priority`, only creates of that priority are refused ("Spot is out in eastus, Regular is fine"); `null` refuses both.
   */
  capacity: Targeting & { regions: string[]; mode: "sync" | "async"; priority: "Regular" | "Spot" | null };
  /** Adds `extraMs`, plus a seeded uniform draw in [0, `jitterMs`), to the image pull of targeted groups. */
  slowProvisioning: Targeting & { extraMs: number; jitterMs: number };
  /** The platform kills and restarts the first container `afterMs` after it started, once per targeted group. */
  platformRestart: Targeting & { afterMs: number };
  /**
   * Spot groups are evicted `afterMs` after they started, once per targeted group, then restarted.
   * `regions`, when not empty, narrows the targeting: only Spot groups in those regions can be hit (`rate: 1` hits all of them).
   */
  spotEviction: Targeting & { afterMs: number; regions: string[] };
  /** Images (exact, or prefix ending in `*`) that fail with InaccessibleImage. */
  inaccessibleImages: string[];
}

export const NO_FAULTS: FaultConfig = {
  seed: 1,
  httpErrors: { rate: 0, lostResponseRate: 0, statusCodes: [500, 503] },
  throttleStorm: { activeUntil: null, retryAfterSeconds: 1 },
  capacity: { groups: [], rate: 0, regions: [], mode: "sync", priority: null },
  slowProvisioning: { groups: [], rate: 0, extraMs: 0, jitterMs: 0 },
  platformRestart: { groups: [], rate: 0, afterMs: 500 },
  spotEviction: { groups: [], rate: 0, afterMs: 500, regions: [] },
  inaccessibleImages: [],
};

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative().finite();
const rate = z.number().min(0).max(1);
const bucket = z.strictObject({ capacity: z.number().positive(), refillPerSecond: z.number().nonnegative() });
const targeting = { groups: z.array(z.string().min(1)).optional(), rate: rate.optional() };
const regions = z.array(z.string().trim().min(1, "expected a region name such as \"eastus\"")).optional();

const limitsPatch = z.strictObject({
  containerGroupsPerRegion: count.optional(),
  standardCoresPerRegion: z.number().nonnegative().optional(),
  maxCpuPerGroup: z.number().positive().optional(),
  maxMemoryInGBPerGroup: z.number().positive().optional(),
  spotMaxCpuPerGroup: z.number().positive().optional(),
  spotMaxMemoryInGBPerGroup: z.number().positive().optional(),
  maxContainersPerGroup: count.optional(),
  creates: z.strictObject({ per5Min: count.optional(), perHour: count.optional() }).optional(),
  deletes: z.strictObject({ per5Min: count.optional(), perHour: count.optional() }).optional(),
  armThrottling: z
    .strictObject({ enabled: z.boolean().optional(), reads: bucket.optional(), writes: bucket.optional(), deletes: bucket.optional() })
    .optional(),
  listPageSize: z.number().int().positive().optional(),
  logs: z.strictObject({ runningBytes: count.optional(), stoppedBytes: count.optional(), stoppedLines: count.optional() }).optional(),
});
export type LimitsPatch = z.input<typeof limitsPatch>;

const timingsPatch = z.strictObject({
  scheduleDelayMs: ms.optional(),
  pullDelayMs: ms.optional(),
  startDelayMs: ms.optional(),
  restartBackoffMs: ms.optional(),
  maxRestartBackoffMs: ms.optional(),
  platformRestartDelayMs: ms.optional(),
  spotRestartDelayMs: ms.optional(),
  killGraceMs: ms.optional(),
});
export type TimingsPatch = z.input<typeof timingsPatch>;

const faultsInput = z.strictObject({
  seed: z.number().int().optional(),
  httpErrors: z
    .strictObject({
      rate: rate.optional(),
      lostResponseRate: rate.optional(),
      statusCodes: z.array(z.number().int().min(500).max(599)).min(1).optional(),
    })
    .optional(),
  throttleStorm: z
    .strictObject({
      durationMs: ms.optional(),
      activeUntil: z.union([z.string(), z.number(), z.null()]).optional(),
      retryAfterSeconds: z.number().int().min(0).optional(),
    })
    .optional(),
  capacity: z
    .strictObject({
      ...targeting,
      regions,
      mode: z.enum(["sync", "async"]).optional(),
      // null (as GET shows an unset one) means both priorities.
      priority: z.enum(["Regular", "Spot"], { error: "expected \"Regular\" or \"Spot\" (or null for both)" }).nullable().optional(),
    })
    .optional(),
  slowProvisioning: z.strictObject({ ...targeting, extraMs: ms.optional(), jitterMs: ms.optional() }).optional(),
  platformRestart: z.strictObject({ ...targeting, afterMs: ms.optional() }).optional(),
  spotEviction: z
    .strictObject({ ...targeting, afterMs: ms.optional(), regions })
    .refine((e) => !e.regions?.length || (e.groups?.length ?? 0) > 0 || (e.rate ?? 0) > 0, {
      // A region list alone would evict nothing: say so rather than accept a fault that never fires.
      message: "regions only narrows which Spot groups are evicted; also name groups or give a rate (rate: 1 evicts every Spot group there)",
      path: ["regions"],
    })
    .optional(),
  inaccessibleImages: z.array(z.string().min(1)).optional(),
});
const fidelityPatch = z.strictObject({
  containerEvents: z.enum(["absent", "present", "late"]).optional(),
  lateEventsMs: ms.optional(),
  operationCreating: z.boolean().optional(),
});
export type FidelityPatch = z.input<typeof fidelityPatch>;

const costsPatch = z.strictObject({
  reportDelayMs: ms.optional(),
  vcpuSecondUsd: z.number().nonnegative().finite().optional(),
  gbSecondUsd: z.number().nonnegative().finite().optional(),
});
export type CostsPatch = z.input<typeof costsPatch>;

/** What callers send: like FaultConfig, all optional, and a storm may be given as a duration. */
export type FaultsInput = z.input<typeof faultsInput>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.join(".") || "(root)";
  const value = issue.path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
  throw new ConfigError(`invalid ${what}: ${path}: ${issue.message}${value === undefined ? "" : ` (got ${JSON.stringify(value)})`}`);
}

export function applyLimits(current: EmulatorLimits, input: unknown): EmulatorLimits {
  const p = parse(limitsPatch, input ?? {}, "limits");
  const t = p.armThrottling;
  return {
    ...current,
    ...stripUndefined({ ...p, creates: undefined, deletes: undefined, armThrottling: undefined, logs: undefined }),
    creates: { ...current.creates, ...stripUndefined(p.creates ?? {}) },
    deletes: { ...current.deletes, ...stripUndefined(p.deletes ?? {}) },
    armThrottling: { ...current.armThrottling, ...stripUndefined(t ?? {}) },
    logs: { ...current.logs, ...stripUndefined(p.logs ?? {}) },
  } as EmulatorLimits;
}

export function applyTimings(current: EmulatorTimings, input: unknown): EmulatorTimings {
  return { ...current, ...stripUndefined(parse(timingsPatch, input ?? {}, "timings")) };
}

export function applyFidelity(current: EmulatorFidelity, input: unknown): EmulatorFidelity {
  return { ...current, ...stripUndefined(parse(fidelityPatch, input ?? {}, "fidelity")) };
}

export function applyCosts(current: CostSettings, input: unknown): CostSettings {
  return { ...current, ...stripUndefined(parse(costsPatch, input ?? {}, "costs")) };
}

/** Replaces the whole fault configuration: anything not given is off. */
export function buildFaults(input: unknown, now: number): FaultConfig {
  const p = parse(faultsInput, input ?? {}, "faults");
  const storm = p.throttleStorm;
  let activeUntil: number | null = null;
  if (storm?.durationMs !== undefined) activeUntil = now + storm.durationMs;
  else if (typeof storm?.activeUntil === "number") activeUntil = storm.activeUntil;
  else if (typeof storm?.activeUntil === "string") {
    activeUntil = Date.parse(storm.activeUntil);
    if (Number.isNaN(activeUntil)) throw new ConfigError(`invalid faults: throttleStorm.activeUntil is not a date (got ${JSON.stringify(storm.activeUntil)})`);
  }
  const d = NO_FAULTS;
  return {
    seed: p.seed ?? d.seed,
    httpErrors: { ...d.httpErrors, ...stripUndefined(p.httpErrors ?? {}) },
    throttleStorm: { activeUntil, retryAfterSeconds: storm?.retryAfterSeconds ?? d.throttleStorm.retryAfterSeconds },
    capacity: { ...d.capacity, ...stripUndefined(p.capacity ?? {}), regions: (p.capacity?.regions ?? []).map(normalizeRegion) },
    slowProvisioning: { ...d.slowProvisioning, ...stripUndefined(p.slowProvisioning ?? {}) },
    platformRestart: { ...d.platformRestart, ...stripUndefined(p.platformRestart ?? {}) },
    spotEviction: { ...d.spotEviction, ...stripUndefined(p.spotEviction ?? {}), regions: (p.spotEviction?.regions ?? []).map(normalizeRegion) },
    inaccessibleImages: p.inaccessibleImages ?? [],
  };
}

/** The JSON form of a fault configuration (times as ISO strings). */
export function describeFaults(f: FaultConfig): unknown {
  return { ...f, throttleStorm: { ...f.throttleStorm, activeUntil: f.throttleStorm.activeUntil === null ? null : new Date(f.throttleStorm.activeUntil).toISOString() } };
}

/** ARM location names compare without case or spaces: "West US" is "westus". */
export function normalizeRegion(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}

/** Exact name, or a prefix when the pattern ends with `*`; case-insensitive like ARM names. */
export function matchesName(patterns: readonly string[], name: string): boolean {
  const n = name.toLowerCase();
  return patterns.some((p) => {
    const q = p.toLowerCase();
    return q.endsWith("*") ? n.startsWith(q.slice(0, -1)) : n === q;
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
