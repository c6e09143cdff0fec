/**
 * Ground truth for tests and benchmarks: counters of what clients asked for, the peak
 * number of groups alive at once, and a billing meter for every group ever created.
 * This is the JSON of GET /_emulator/stats.
 */
import { readMeter, type MeteredGroup } from "./billing.js";
import type { ContainerGroup } from "./group.js";
import type { RuntimeKind } from "./runtime/runtime.js";

export interface ThrottleCounts {
  reads: number;
  writes: number;
  deletes: number;
  createWindow: number;
  deleteWindow: number;
  storm: number;
  total: number;
}

export interface AliveGroup {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  state: string;
  provisioningState: string;
  tags: Record<string, string>;
  createdAt: string;
}

export interface BillingEntry {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  priority: "Regular" | "Spot";
  cpu: number;
  memoryInGB: number;
  deleted: boolean;
  /** When the PUT that created the group was received, and when it was deleted (null while it exists). */
  createdAt: string;
  deletedAt: string | null;
  /** Still being billed now. */
  running: boolean;
  /** First pull start and last stop; null when never started / still running. */
  firstStart: string | null;
  lastEnd: string | null;
  intervals: { start: string; end: string | null; cpu: number; memoryInGB: number }[];
  seconds: number;
  billedSeconds: number;
  vcpuSeconds: number;
  gbSeconds: number;
}

export interface EmulatorStats {
  runtime: RuntimeKind;
  now: string;
  alive: AliveGroup[];
  aliveCount: number;
  /** `bySubscriptionRegion` is keyed `{subscription}/{region}` (lowercase): the scope ACI's quotas apply to. */
  peak: { total: number; byRegion: Record<string, number>; byResourceGroup: Record<string, number>; bySubscriptionRegion: Record<string, number> };
  counts: {
    creates: number;
    updates: number;
    idempotentPuts: number;
    reads: number;
    lists: number;
    logReads: number;
    operationReads: number;
    /** Cost Management queries answered. */
    costQueries: number;
    deletes: number;
    stops: number;
    starts: number;
    restarts: number;
    throttled: ThrottleCounts;
    injectedErrors: number;
    lostResponses: number;
  };
  createsByName: Record<string, number>;
  /** Calls by the ARM action they need (arm.ts armAction), throttled ones included: what a caller's role must allow. */
  actions: Record<string, number>;
  billing: BillingEntry[];
}

type Counts = Omit<EmulatorStats["counts"], "throttled" | "creates" | "deletes">;

export class Counters {
  creates = 0;
  deletes = 0;
  updates = 0;
  idempotentPuts = 0;
  reads = 0;
  lists = 0;
  logReads = 0;
  operationReads = 0;
  costQueries = 0;
  stops = 0;
  starts = 0;
  restarts = 0;
  injectedErrors = 0;
  lostResponses = 0;
  throttled = { reads: 0, writes: 0, deletes: 0, createWindow: 0, deleteWindow: 0, storm: 0 };
  createsByName: Record<string, number> = {};
  actions: Record<string, number> = {};
  peak = { total: 0, byRegion: {} as Record<string, number>, byResourceGroup: {} as Record<string, number>, bySubscriptionRegion: {} as Record<string, number> };
  private aliveByRegion = new Map<string, number>();
  private aliveByRg = new Map<string, number>();
  private aliveBySubRegion = new Map<string, number>();
  private alive = 0;

  recordCreate(g: ContainerGroup): void {
    this.creates++;
    this.createsByName[g.ref.name] = (this.createsByName[g.ref.name] ?? 0) + 1;
    this.arrive(g);
  }

  /** A group restored from a state file is alive again, but was not created again. */
  recordRestored(g: ContainerGroup): void {
    this.arrive(g);
  }

  recordDelete(g: ContainerGroup): void {
    this.deletes++;
    this.alive--;
    bump(this.aliveByRegion, g.spec.region, -1);
    bump(this.aliveByRg, g.ref.resourceGroup.toLowerCase(), -1);
    bump(this.aliveBySubRegion, subRegion(g), -1);
  }

  recordAction(action: string): void {
    this.actions[action] = (this.actions[action] ?? 0) + 1;
  }

  count(kind: keyof Counts): void {
    this[kind]++;
  }

  private arrive(g: ContainerGroup): void {
    this.alive++;
    this.peak.total = Math.max(this.peak.total, this.alive);
    const region = bump(this.aliveByRegion, g.spec.region, 1);
    this.peak.byRegion[g.spec.region] = Math.max(this.peak.byRegion[g.spec.region] ?? 0, region);
    const rgKey = g.ref.resourceGroup.toLowerCase();
    const rg = bump(this.aliveByRg, rgKey, 1);
    this.peak.byResourceGroup[rgKey] = Math.max(this.peak.byResourceGroup[rgKey] ?? 0, rg);
    const sr = bump(this.aliveBySubRegion, subRegion(g), 1);
    this.peak.bySubscriptionRegion[subRegion(g)] = Math.max(this.peak.bySubscriptionRegion[subRegion(g)] ?? 0, sr);
  }

  reset(): void {
    Object.assign(this, new Counters());
  }
}

function bump(map: Map<string, number>, key: string, by: number): number {
  const v = (map.get(key) ?? 0) + by;
  map.set(key, v);
  return v;
}

export function buildStats(runtime: RuntimeKind, counters: Counters, groups: Iterable<ContainerGroup>, ledger: readonly MeteredGroup[], now: number): EmulatorStats {
  const iso = (ms: number) => new Date(ms).toISOString();
  const alive = [...groups].map((g) => ({
    id: g.ref.id,
    name: g.ref.name,
    subscriptionId: g.ref.subscriptionId,
    resourceGroup: g.ref.resourceGroup,
    location: g.spec.region,
    state: g.state,
    provisioningState: g.provisioningState,
    tags: g.spec.tags ?? {},
    createdAt: iso(g.createdAt),
  }));
  const t = counters.throttled;
  return {
    runtime,
    now: iso(now),
    alive,
    aliveCount: alive.length,
    peak: structuredClone(counters.peak),
    counts: {
      creates: counters.creates,
      updates: counters.updates,
      idempotentPuts: counters.idempotentPuts,
      reads: counters.reads,
      lists: counters.lists,
      logReads: counters.logReads,
      operationReads: counters.operationReads,
      costQueries: counters.costQueries,
      deletes: counters.deletes,
      stops: counters.stops,
      starts: counters.starts,
      restarts: counters.restarts,
      throttled: { ...t, total: t.reads + t.writes + t.deletes + t.createWindow + t.deleteWindow + t.storm },
      injectedErrors: counters.injectedErrors,
      lostResponses: counters.lostResponses,
    },
    createsByName: { ...counters.createsByName },
    actions: { ...counters.actions },
    billing: ledger.map((g) => billingEntry(g, now)),
  };
}

function billingEntry(g: MeteredGroup, now: number): BillingEntry {
  const iso = (ms: number) => new Date(ms).toISOString();
  const meter = readMeter(g.billing, now);
  const first = g.billing[0];
  const last = g.billing[g.billing.length - 1];
  return {
    id: g.ref.id,
    name: g.ref.name,
    subscriptionId: g.ref.subscriptionId,
    resourceGroup: g.ref.resourceGroup,
    location: g.spec.region,
    priority: g.spec.priority,
    cpu: g.spec.cpu,
    memoryInGB: g.spec.memoryInGB,
    deleted: g.deleted,
    createdAt: iso(g.createdAt),
    deletedAt: g.deletedAt === undefined ? null : iso(g.deletedAt),
    running: last !== undefined && last.end === undefined,
    firstStart: first ? iso(first.start) : null,
    lastEnd: last?.end !== undefined ? iso(last.end) : null,
    intervals: g.billing.map((i) => ({ start: iso(i.start), end: i.end === undefined ? null : iso(i.end), cpu: i.cpu, memoryInGB: i.memoryInGB })),
    ...meter,
  };
}

function subRegion(g: ContainerGroup): string {
  return `${g.ref.subscriptionId}/${g.spec.region}`.toLowerCase();
}
