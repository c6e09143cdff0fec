/**
 * The emulated Microsoft.ContainerInstance resource provider, without HTTP: validation,
 * quotas, create/delete windows, injected group faults, and the registry of groups.
 * Every method either returns what the ARM answer needs or throws an ArmError.
 */
import type { Clock } from "./clock.js";
import {
  applyCosts, applyFidelity, applyLimits, applyTimings, buildFaults, matchesName, normalizeRegion,
  type CostSettings, type EmulatorFidelity, type EmulatorLimits, type EmulatorTimings, type FaultConfig, type Targeting,
} from "./config.js";
import type { AciEvent, EventView } from "./events.js";
import { ArmError, errors } from "./errors.js";
import { ContainerGroup, type FaultPlan, type GroupDeps, type GroupRef } from "./group.js";
import type { MeteredGroup } from "./billing.js";
import { restoreGroup, saveState, type SavedState } from "./stateFile.js";
import { lookupImage } from "./images.js";
import { cutLog, renderLog } from "./logs.js";
import { AsyncOperation, OperationStore } from "./operations.js";
import { createRng, type Rng } from "./rng.js";
import type { ContainerRuntime } from "./runtime/runtime.js";
import { parseGroupBody, sameBody, validateGroupName, type GroupSpec } from "./spec.js";
import { Throttle } from "./throttle.js";
import { Counters } from "./stats.js";

export interface ServiceOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  limits: EmulatorLimits;
  timings: EmulatorTimings;
  faults: FaultConfig;
  fidelity: EmulatorFidelity;
  costs: CostSettings;
}

export interface PutResult {
  status: 200 | 201;
  group: ContainerGroup;
  operation?: AsyncOperation;
  headers: Record<string, string>;
}

export function groupKey(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${subscriptionId}/${resourceGroup}/${name}`.toLowerCase();
}

export function resourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerInstance/containerGroups/${name}`;
}

export class AciService {
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
  limits: EmulatorLimits;
  timings: EmulatorTimings;
  faults: FaultConfig;
  fidelity: EmulatorFidelity;
  costs: CostSettings;
  readonly groups = new Map<string, ContainerGroup>();
  /** Every group ever created, deleted ones too: the billing meter outlives the group. */
  readonly ledger: MeteredGroup[] = [];
  readonly operations = new OperationStore();
  readonly throttle: Throttle;
  readonly counters = new Counters();
  httpRng: Rng;
  private groupRng: Rng;

  constructor(options: ServiceOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.limits = options.limits;
    this.timings = options.timings;
    this.faults = options.faults;
    this.fidelity = options.fidelity;
    this.costs = options.costs;
    this.throttle = new Throttle(this.clock, () => this.limits);
    this.httpRng = createRng(this.faults.seed);
    this.groupRng = createRng(this.faults.seed ^ 0x9e3779b9);
  }

  setFaults(input: unknown): FaultConfig {
    this.faults = buildFaults(input, this.clock.now());
    this.httpRng = createRng(this.faults.seed);
    this.groupRng = createRng(this.faults.seed ^ 0x9e3779b9);
    return this.faults;
  }

  setLimits(input: unknown): EmulatorLimits {
    return (this.limits = applyLimits(this.limits, input));
  }

  setTimings(input: unknown): EmulatorTimings {
    return (this.timings = applyTimings(this.timings, input));
  }

  setFidelity(input: unknown): EmulatorFidelity {
    return (this.fidelity = applyFidelity(this.fidelity, input));
  }

  setCosts(input: unknown): CostSettings {
    return (this.costs = applyCosts(this.costs, input));
  }

  /** How instance-view events show right now. */
  eventView(): EventView {
    return { mode: this.fidelity.containerEvents, lateMs: this.fidelity.lateEventsMs, now: this.clock.now() };
  }

  /** A new operation on a group; when it ends it reports the first container's pull events, as the service shows them. */
  private operation(g: { ref: GroupRef; containers: { events: { visible(v: EventView): AciEvent[] | undefined } }[] }, subscriptionId: string, region: string): AsyncOperation {
    const events = () => (g.containers[0]?.events.visible(this.eventView()) ?? []).filter((e) => e.name === "Pulling" || e.name === "Pulled");
    return this.operations.add(new AsyncOperation(g.ref.id, subscriptionId, region, this.clock.now(), events));
  }

  find(subscriptionId: string, resourceGroup: string, name: string): ContainerGroup {
    const g = this.groups.get(groupKey(subscriptionId, resourceGroup, name));
    if (!g) throw errors.groupNotFound(resourceGroup, name);
    return g;
  }

  async put(subscriptionId: string, resourceGroup: string, name: string, body: unknown): Promise<PutResult> {
    validateGroupName(name);
    const spec = parseGroupBody(body, name);
    const key = groupKey(subscriptionId, resourceGroup, name);
    const existing = this.groups.get(key);
    // A repeat of a failed create tries again, as ARM does; any other repeat is a no-op.
    if (existing && existing.provisioningState !== "Failed" && sameBody(existing.spec.body, spec.body)) {
      this.counters.idempotentPuts++;
      return { status: 200, group: existing, operation: existing.operation?.done ? undefined : existing.operation, headers: {} };
    }
    this.validate(spec, name);
    const now = this.clock.now();
    if (existing) {
      if (existing.spec.region !== spec.region) {
        throw new ArmError(409, "InvalidResourceLocation", `The resource '${name}' already exists in location '${existing.spec.region}' in resource group '${resourceGroup}'. A resource with the same name cannot be created in location '${spec.region}'. Please select a new resource name.`);
      }
      this.checkCores(subscriptionId, spec, existing);
      existing.plan = { ...existing.plan, capacityFailure: this.capacityFault(spec, name) };
      const op = this.operation(existing, subscriptionId, spec.region);
      this.counters.updates++;
      // The new body is whole again, secrets included.
      existing.restoredWithoutSecrets = false;
      await existing.update(spec, op);
      return { status: 200, group: existing, operation: op, headers: {} };
    }

    const window = this.throttle.window(subscriptionId, spec.region, "create");
    if (!window.admitted) {
      this.counters.throttled.createWindow++;
      throw errors.windowThrottled("Create", window.remaining5m <= 0 ? "00:05:00" : "01:00:00", Math.ceil(window.retryAfterMs / 1000), Throttle.windowHeaders(window));
    }
    const sameRegion = [...this.groups.values()].filter((g) => g.ref.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && g.spec.region === spec.region);
    if (sameRegion.length + 1 > this.limits.containerGroupsPerRegion) {
      throw errors.quotaExceeded("ContainerGroups", spec.region, this.limits.containerGroupsPerRegion, sameRegion.length, 1);
    }
    this.checkCores(subscriptionId, spec);
    const plan = this.planFaults(spec, name);

    // Registered before the first await, so a concurrent PUT of the same name sees it.
    const ref: GroupRef = { subscriptionId, resourceGroup, name, id: resourceId(subscriptionId, resourceGroup, name) };
    const group = new ContainerGroup(ref, spec, plan, this.groupDeps(), now);
    this.groups.set(key, group);
    this.ledger.push(group);
    this.throttle.commit(subscriptionId, spec.region, "create");
    this.counters.recordCreate(group);
    const op = this.operation(group, subscriptionId, spec.region);
    if (spec.ipAddress) group.address = await this.runtime.allocateAddress(spec.ipAddress.ports.map((p) => p.port));
    if (!group.deleted) group.create(op);
    return { status: 201, group, operation: op, headers: Throttle.windowHeaders(window) };
  }

  patchTags(subscriptionId: string, resourceGroup: string, name: string, body: unknown): ContainerGroup {
    const g = this.find(subscriptionId, resourceGroup, name);
    const tags = (body as { tags?: unknown } | null)?.tags;
    if (tags !== undefined && (typeof tags !== "object" || tags === null || Object.values(tags).some((v) => typeof v !== "string"))) {
      throw errors.invalidContent("tags: must be an object of strings");
    }
    if (tags !== undefined) {
      g.spec.body = { ...g.spec.body, tags: tags as Record<string, string> };
      g.spec.tags = tags as Record<string, string>;
    }
    this.counters.updates++;
    return g;
  }

  /**
   * Undefined when there was nothing to delete (ARM answers 204). `before` is called with
   * the group as it was, before anything stops: the live DELETE answers with that.
   */
  async delete(subscriptionId: string, resourceGroup: string, name: string, before: (g: ContainerGroup) => void = () => {}): Promise<{ group: ContainerGroup; headers: Record<string, string> } | undefined> {
    const key = groupKey(subscriptionId, resourceGroup, name);
    const g = this.groups.get(key);
    if (!g) return undefined;
    const window = this.throttle.window(subscriptionId, g.spec.region, "delete");
    if (!window.admitted) {
      this.counters.throttled.deleteWindow++;
      throw errors.windowThrottled("Delete", window.remaining5m <= 0 ? "00:05:00" : "01:00:00", Math.ceil(window.retryAfterMs / 1000), Throttle.windowHeaders(window));
    }
    this.throttle.commit(subscriptionId, g.spec.region, "delete");
    before(g);
    this.groups.delete(key);
    this.counters.recordDelete(g);
    await g.delete();
    if (g.address) this.runtime.releaseAddress(g.address);
    return { group: g, headers: Throttle.windowHeaders(window) };
  }

  async stop(subscriptionId: string, resourceGroup: string, name: string): Promise<void> {
    const g = this.find(subscriptionId, resourceGroup, name);
    this.counters.stops++;
    await g.stop();
  }

  start(subscriptionId: string, resourceGroup: string, name: string): AsyncOperation {
    const g = this.runnable(subscriptionId, resourceGroup, name);
    const op = this.operation(g, subscriptionId, g.spec.region);
    this.counters.starts++;
    g.start(op);
    return op;
  }

  async restart(subscriptionId: string, resourceGroup: string, name: string): Promise<AsyncOperation> {
    const g = this.runnable(subscriptionId, resourceGroup, name);
    const op = this.operation(g, subscriptionId, g.spec.region);
    this.counters.restarts++;
    await g.restart(op);
    return op;
  }

  logs(subscriptionId: string, resourceGroup: string, name: string, container: string, tail: number | undefined, timestamps: boolean): string {
    const g = this.find(subscriptionId, resourceGroup, name);
    const c = g.containers.find((x) => x.spec.name === container);
    if (!c) throw errors.containerNotFound(name, container);
    return renderLog(cutLog(c.logs.all(), { stopped: g.stopped, tail, limits: this.limits.logs }), timestamps);
  }

  list(subscriptionId: string, resourceGroup?: string): ContainerGroup[] {
    const prefix = (resourceGroup ? `${subscriptionId}/${resourceGroup}/` : `${subscriptionId}/`).toLowerCase();
    // Sorted by resource id, which is also the order $skipToken pages through.
    return [...this.groups.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, g]) => g)
      .sort((a, b) => (a.ref.id.toLowerCase() < b.ref.id.toLowerCase() ? -1 : 1));
  }

  usage(subscriptionId: string, location: string): { containerGroups: number; cores: number } {
    const region = normalizeRegion(location);
    const mine = [...this.groups.values()].filter((g) => g.ref.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && g.spec.region === region);
    return { containerGroups: mine.length, cores: mine.filter((g) => g.allocated).reduce((s, g) => s + g.spec.cpu, 0) };
  }

  /** Everything a state file keeps, as of now (see stateFile.ts). */
  snapshot(): SavedState {
    return saveState(this.groups.values(), this.ledger, this.clock.now(), this.limits.logs);
  }

  /** Anything running or about to: what a state file must keep rewriting, so its time stays current. */
  get running(): boolean {
    for (const g of this.groups.values()) if (g.allocated) return true;
    return false;
  }

  /** Takes in a state file's groups and meters, before any request is served; answers how many groups it ended. */
  restore(state: SavedState): { groups: number; ended: number } {
    const wasRunning = state.groups.filter((s) => s.provisioningState !== "Failed" && (s.state === "Pending" || s.state === "Running")).length;
    const restored = state.groups.map((s) => restoreGroup(s, this.groupDeps(), state.savedAt));
    for (const g of restored) {
      this.groups.set(groupKey(g.ref.subscriptionId, g.ref.resourceGroup, g.ref.name), g);
      this.counters.recordRestored(g);
    }
    this.ledger.push(...[...state.meters, ...restored].sort((a, b) => a.createdAt - b.createdAt));
    return { groups: restored.length, ended: wasRunning };
  }

  async reset(): Promise<void> {
    const all = [...this.groups.values()];
    this.groups.clear();
    await Promise.all(all.map(async (g) => {
      await g.delete();
      if (g.address) this.runtime.releaseAddress(g.address);
    }));
    this.ledger.length = 0;
    this.operations.clear();
    this.throttle.reset();
    this.counters.reset();
    this.httpRng = createRng(this.faults.seed);
    this.groupRng = createRng(this.faults.seed ^ 0x9e3779b9);
  }

  private groupDeps(): GroupDeps {
    return { clock: this.clock, runtime: this.runtime, timings: () => this.timings, logBytes: () => this.limits.logs.runningBytes };
  }

  /** A group that start or restart may run again: not one restored without the secure values it needs. */
  private runnable(subscriptionId: string, resourceGroup: string, name: string): ContainerGroup {
    const g = this.find(subscriptionId, resourceGroup, name);
    if (g.restoredWithoutSecrets) throw errors.restoredWithoutSecrets(name);
    return g;
  }

  private validate(spec: GroupSpec, name: string): void {
    const l = this.limits;
    if (spec.containers.length > l.maxContainersPerGroup) throw errors.tooManyContainers(name, spec.containers.length, l.maxContainersPerGroup);
    const spot = spec.priority === "Spot";
    const [maxCpu, maxMem] = spot ? [l.spotMaxCpuPerGroup, l.spotMaxMemoryInGBPerGroup] : [l.maxCpuPerGroup, l.maxMemoryInGBPerGroup];
    if (spec.cpu > maxCpu || spec.memoryInGB > maxMem) throw errors.overGroupMaximum(name, spec.priority, spec.cpu, spec.memoryInGB, maxCpu, maxMem);
    if (spot && spec.ipAddress?.type === "Public") throw errors.spotWithPublicIp();
    if (spot && spec.containers.some((c) => c.gpu)) throw errors.spotWithGpu();
    for (const c of [...spec.initContainers, ...spec.containers]) {
      if (matchesName(this.faults.inaccessibleImages, c.image)) throw errors.inaccessibleImage(c.image, name, "the emulator was told to treat it as inaccessible");
      if (!c.command && !lookupImage(c.image)) {
        throw errors.inaccessibleImage(c.image, name, "the emulator cannot pull images: give the container a command, or use an image from its image map");
      }
    }
  }

  private checkCores(subscriptionId: string, spec: GroupSpec, replacing?: ContainerGroup): void {
    const used = [...this.groups.values()]
      .filter((g) => g !== replacing && g.allocated && g.ref.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && g.spec.region === spec.region)
      .reduce((s, g) => s + g.spec.cpu, 0);
    if (used + spec.cpu > this.limits.standardCoresPerRegion + 1e-9) {
      throw errors.quotaExceeded("StandardCores", spec.region, this.limits.standardCoresPerRegion, used, spec.cpu);
    }
  }

  /** Throws the capacity error for a sync fault; returns it for an async one (the operation will fail). */
  private capacityFault(spec: GroupSpec, name: string): ArmError | undefined {
    const c = this.faults.capacity;
    // Checked before the rate's draw, so creates of the other priority leave the seeded stream alone.
    if (c.priority !== null && spec.priority !== c.priority) return undefined;
    if (!c.regions.includes(spec.region) && !matchesName(c.groups, name) && !(c.rate > 0 && this.groupRng() < c.rate)) return undefined;
    const error = errors.capacity(spec.cpu, spec.memoryInGB, spec.region);
    if (c.mode === "sync") throw error;
    return error;
  }

  private planFaults(spec: GroupSpec, name: string): FaultPlan {
    const f = this.faults;
    const hit = (t: Targeting) => matchesName(t.groups, name) || (t.rate > 0 && this.groupRng() < t.rate);
    const plan: FaultPlan = { extraPullMs: 0, capacityFailure: this.capacityFault(spec, name) };
    if (hit(f.slowProvisioning)) {
      // Drawn only when asked for, so configurations without jitter replay exactly as before.
      const { extraMs, jitterMs } = f.slowProvisioning;
      plan.extraPullMs = extraMs + (jitterMs > 0 ? Math.round(this.groupRng() * jitterMs) : 0);
    }
    if (hit(f.platformRestart)) plan.platformRestartAfterMs = f.platformRestart.afterMs;
    const evictable = spec.priority === "Spot" && (f.spotEviction.regions.length === 0 || f.spotEviction.regions.includes(spec.region));
    if (evictable && hit(f.spotEviction)) plan.spotEvictionAfterMs = f.spotEviction.afterMs;
    return plan;
  }
}
