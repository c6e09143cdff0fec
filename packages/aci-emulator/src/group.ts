/**
 * One container group's lifecycle: the single owner of its states, events, billing
 * intervals and logs. Both runtimes drive it through the same seam (launch → lines →
 * exit), so states and billing mean the same under `process` and `sim`.
 *
 *   PUT ─► Pending ─(schedule)─► pull [billing starts] ─► Pulled ─► init containers, one by one ─► Started ─► Running
 *   Running ─► all containers terminated ─► Succeeded | Failed   (restartPolicy Never / OnFailure)
 *   any ─stop─► Stopped ─start─► Pending ─► …                    (billing stops / restarts)
 *
 * `provisioningState` only tracks create/update (Pending → Creating → Succeeded | Failed);
 * a stopped or finished group still says Succeeded, as in ACI.
 *
 * A client stop leaves each running container as the live service recorded it
 * (azure-sdk-for-python, test_cli_mgmt_containerinstance, 2019-12-01):
 * `currentState {Terminated, finishTime, detailStatus: "Container stopped per client
 * request"}` with no exit code and no start time, and `previousState {Running,
 * startTime, detailStatus: ""}`.
 */
import type { Clock, TimerHandle } from "./clock.js";
import type { EmulatorTimings } from "./config.js";
import { errors, type ArmError } from "./errors.js";
import { EventLog, stateTime, type ContainerStateView } from "./events.js";
import type { BillingInterval } from "./billing.js";
import { lookupImage, lookupProgram } from "./images.js";
import { LogBuffer } from "./logs.js";
import type { AsyncOperation } from "./operations.js";
import type { ContainerRuntime, GroupAddress, Launch, RunningContainer } from "./runtime/runtime.js";
import type { ContainerSpec, GroupSpec } from "./spec.js";

export type GroupState = "Pending" | "Running" | "Succeeded" | "Failed" | "Stopped";
export type ProvisioningState = "Pending" | "Creating" | "Succeeded" | "Failed";
type Phase = "create" | "update" | "start" | "restart" | "recover";
type KillReason = "stop" | "restart" | "platform" | "evict";

export const CLIENT_STOP_DETAIL = "Container stopped per client request";
/** A container that was running (or about to) when the emulator stopped, seen after it started again from its state file. */
export const EMULATOR_STOPPED_DETAIL = "Container stopped because the ACI emulator stopped; it was not restarted";

export interface GroupRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  id: string;
}

/** Faults decided for this group when it was created. */
export interface FaultPlan {
  extraPullMs: number;
  capacityFailure?: ArmError;
  platformRestartAfterMs?: number;
  spotEvictionAfterMs?: number;
}

export interface GroupDeps {
  clock: Clock;
  runtime: ContainerRuntime;
  timings(): EmulatorTimings;
  logBytes(): number;
}

export class Container {
  restartCount = 0;
  current: ContainerStateView = { state: "Waiting", detailStatus: "" };
  previous?: ContainerStateView;
  readonly events = new EventLog();
  readonly logs: LogBuffer;
  handle?: RunningContainer;
  generation = 0;
  backoffs = 0;
  restartPending = false;
  killReason?: KillReason;

  constructor(readonly spec: ContainerSpec, logBytes: number) {
    this.logs = new LogBuffer(logBytes);
  }
}

export class ContainerGroup {
  provisioningState: ProvisioningState = "Pending";
  state: GroupState = "Pending";
  readonly groupEvents = new EventLog();
  containers: Container[];
  /** Run to completion, one after another, before the containers start. */
  initContainers: Container[];
  /** Some run reached its containers: the IP address shows from then on (a PUT answer has none). */
  started = false;
  readonly billing: BillingInterval[] = [];
  operation?: AsyncOperation;
  address?: GroupAddress;
  deleted = false;
  /** When the delete (or reset) happened: the end of the group's life, for benchmarks' busy-slot timelines. */
  deletedAt?: number;
  /**
   * Restored from a state file, which keeps no secure values: run again, its containers
   * would miss them, so start and restart are refused (a PUT with them runs it again).
   */
  restoredWithoutSecrets = false;
  private run = 0;
  /** The run in progress (create, start, …), carried across the init containers. */
  private phase: Phase = "create";
  private readonly timers = new Set<TimerHandle>();
  private readonly fired = { platformRestart: false, spotEviction: false };

  constructor(
    readonly ref: GroupRef,
    public spec: GroupSpec,
    public plan: FaultPlan,
    private readonly deps: GroupDeps,
    readonly createdAt: number,
  ) {
    this.containers = spec.containers.map((c) => new Container(c, deps.logBytes()));
    this.initContainers = spec.initContainers.map((c) => new Container(c, deps.logBytes()));
  }

  /** Holding (or about to hold) compute: counts against the cores quota. */
  get allocated(): boolean {
    return !this.deleted && this.provisioningState !== "Failed" && (this.state === "Pending" || this.state === "Running");
  }

  /** Logs are cut to the stopped-group limit once nothing runs any more. */
  get stopped(): boolean {
    return this.state === "Succeeded" || this.state === "Failed" || this.state === "Stopped";
  }

  get billingOpen(): boolean {
    const last = this.billing[this.billing.length - 1];
    return last !== undefined && last.end === undefined;
  }

  create(op: AsyncOperation): void {
    this.provision("create", op);
  }

  update(spec: GroupSpec, op: AsyncOperation): Promise<void> {
    return this.replace(async () => {
      // The new spec may be a different size: its billing starts with its own pull.
      this.closeBilling();
      this.spec = spec;
      this.containers = spec.containers.map((c) => new Container(c, this.deps.logBytes()));
      this.initContainers = spec.initContainers.map((c) => new Container(c, this.deps.logBytes()));
      this.provision("update", op);
    });
  }

  start(op: AsyncOperation): void {
    if (this.state === "Running" || this.state === "Pending") {
      this.operation = op;
      op.succeed(this.now());
      return;
    }
    this.provision("start", op);
  }

  async restart(op: AsyncOperation): Promise<void> {
    if (this.state !== "Running" && this.state !== "Pending") return this.start(op);
    await this.replace(async () => this.provision("restart", op));
  }

  async stop(): Promise<void> {
    if (this.deleted) return;
    this.invalidate();
    const now = this.now();
    this.operation?.cancel(now);
    this.state = "Stopped";
    this.closeBilling();
    // Stop is synchronous in ACI: the states are final before the 204, whenever the processes die.
    for (const c of [...this.initContainers, ...this.containers]) {
      if (c.current.state !== "Running") continue;
      c.previous = { state: "Running", startTime: c.current.startTime, detailStatus: "" };
      c.current = { state: "Terminated", finishTime: stateTime(now), detailStatus: CLIENT_STOP_DETAIL };
    }
    await this.killAll("stop");
  }

  async delete(): Promise<void> {
    this.deleted = true;
    this.deletedAt ??= this.now();
    this.invalidate();
    this.operation?.cancel(this.now());
    this.closeBilling();
    await this.killAll("stop");
  }

  /**
   * For a group restored from a state file: whatever was still running (or starting) when
   * the emulator stopped ended at `at`, the last moment the emulator knew it alive. Its
   * containers are Terminated without an exit code (there was none), the group is Failed
   * (not Stopped, which says a client asked for it), and its meter stops there. Nothing
   * is restarted: the processes died with the emulator. Groups that had ended keep their state.
   */
  endAfterShutdown(at: number): void {
    // A failed provisioning never ran and never will; an ended group's state is already final.
    if (this.provisioningState === "Failed" || (this.state !== "Pending" && this.state !== "Running" && !this.billingOpen)) return;
    const last = this.billing[this.billing.length - 1];
    if (last && last.end === undefined) last.end = Math.max(last.start, at);
    for (const c of [...this.initContainers, ...this.containers]) {
      c.restartPending = false;
      if (c.current.state === "Terminated") continue;
      if (c.current.state === "Running") c.previous = { state: "Running", startTime: c.current.startTime, detailStatus: "" };
      c.current = { state: "Terminated", finishTime: stateTime(at), detailStatus: EMULATOR_STOPPED_DETAIL };
    }
    if (this.provisioningState === "Pending" || this.provisioningState === "Creating") this.provisioningState = "Failed";
    this.state = "Failed";
    this.groupEvents.add("EmulatorStopped", "Warning", `The ACI emulator stopped at ${new Date(at).toISOString()}; what ran then was stopped and not restarted.`, at);
  }

  /** The platform kills a running container and starts it again, whatever the restart policy. */
  platformRestart(containerName?: string): boolean {
    const c = containerName ? this.containers.find((x) => x.spec.name === containerName) : this.containers.find((x) => x.handle);
    if (!c?.handle) return false;
    c.killReason = "platform";
    c.events.add("Killing", "Normal", `Killing container with id ${c.spec.name}.`, this.now());
    void c.handle.kill(this.deps.timings().killGraceMs);
    return true;
  }

  /** Spot capacity is reclaimed: everything stops, billing stops, and the group comes back on its own. */
  async evict(): Promise<boolean> {
    if (this.spec.priority !== "Spot") throw errors.notSpot(this.ref.name);
    if (this.deleted || !this.containers.some((c) => c.handle)) return false;
    this.invalidate();
    this.groupEvents.add(
      "SpotEviction",
      "Warning",
      "The Spot container group was evicted because Azure needed the capacity back; it will be restarted automatically.",
      this.now(),
    );
    this.state = "Pending";
    this.closeBilling();
    await this.killAll("evict");
    for (const c of this.containers) c.logs.clear();
    this.after(this.deps.timings().spotRestartDelayMs, () => this.beginPull("recover"));
    return true;
  }

  private async replace(next: () => Promise<void>): Promise<void> {
    this.invalidate();
    await this.killAll("restart");
    await next();
  }

  private provision(phase: Phase, op?: AsyncOperation): void {
    this.invalidate();
    if (op) this.operation = op;
    if (phase === "create" || phase === "update") this.provisioningState = "Pending";
    this.state = "Pending";
    if (phase === "start" || phase === "restart") {
      for (const c of [...this.initContainers, ...this.containers]) {
        c.restartCount = 0;
        c.previous = undefined;
        c.backoffs = 0;
        c.current = { state: "Waiting", detailStatus: "" };
        c.logs.clear();
      }
    }
    this.after(this.deps.timings().scheduleDelayMs, () => this.beginPull(phase));
  }

  private beginPull(phase: Phase): void {
    const now = this.now();
    if ((phase === "create" || phase === "update") && this.plan.capacityFailure) {
      // Allocation failed: nothing was pulled, nothing is billed; the group stays behind. The live
      // operation reports an event named "InsufficientCapacity." (Azure/ALZ-PowerShell-Module#472);
      // showing it on the group's instance view too is the emulator's own choice.
      this.groupEvents.add("InsufficientCapacity.", "Warning", this.plan.capacityFailure.message, now);
      this.provisioningState = "Failed";
      this.operation?.fail(this.plan.capacityFailure, now);
      return;
    }
    if (phase === "create" || phase === "update") this.provisioningState = "Creating";
    this.operation?.creating();
    this.openBilling();
    const all = [...this.initContainers, ...this.containers];
    for (const c of all) c.events.add("Pulling", "Normal", `pulling image "${c.spec.image}"`, now);
    const extra = phase === "create" || phase === "update" ? this.plan.extraPullMs : 0;
    this.after(this.deps.timings().pullDelayMs + extra, () => {
      for (const c of all) c.events.add("Pulled", "Normal", `Successfully pulled image "${c.spec.image}"`, this.now());
      this.runInits(0, phase);
    });
  }

  /**
   * Init containers run one at a time, each to its exit, before any container starts; the
   * operation stays Pending meanwhile (azure-sdk-for-net, CreateOrUpdate_RegularPriority,
   * 2023-05-01). One that fails ends the run: the containers never start.
   */
  private runInits(i: number, phase: Phase): void {
    this.phase = phase;
    const init = this.initContainers[i];
    if (init) this.launch(init);
    else this.after(this.deps.timings().startDelayMs, () => this.startAll(phase));
  }

  private startAll(phase: Phase): void {
    for (const c of this.containers) {
      if (phase === "recover") {
        c.previous = c.current;
        c.restartCount++;
      }
      this.launch(c);
    }
    this.state = "Running";
    this.started = true;
    if (phase === "create" || phase === "update") this.provisioningState = "Succeeded";
    this.operation?.succeed(this.now());
    if (phase === "create" || phase === "update") this.scheduleFaults();
  }

  private scheduleFaults(): void {
    const { platformRestartAfterMs, spotEvictionAfterMs } = this.plan;
    if (platformRestartAfterMs !== undefined && !this.fired.platformRestart) {
      this.after(platformRestartAfterMs, () => {
        this.fired.platformRestart = true;
        this.platformRestart();
      });
    }
    if (spotEvictionAfterMs !== undefined && this.spec.priority === "Spot" && !this.fired.spotEviction) {
      this.after(spotEvictionAfterMs, () => {
        this.fired.spotEviction = true;
        void this.evict();
      });
    }
  }

  private launch(c: Container): void {
    const gen = ++c.generation;
    const now = this.now();
    c.killReason = undefined;
    c.current = { state: "Running", startTime: stateTime(now), detailStatus: "" };
    c.events.add("Started", "Normal", "Started container", now);
    const launch: Launch = {
      label: `${this.ref.resourceGroup}/${this.ref.name}/${c.spec.name}`,
      run: runFor(c.spec),
      env: Object.fromEntries(c.spec.env.map((e) => [e.name, e.secureValue ?? e.value ?? ""])),
      network: this.address,
      onLine: (text) => c.logs.append(text, this.deps.clock.now()),
      onExit: (code) => {
        if (c.generation === gen) this.exited(c, code);
      },
    };
    try {
      c.handle = this.deps.runtime.launch(launch);
    } catch (err) {
      c.logs.append(`emulator: could not start the container: ${err instanceof Error ? err.message : String(err)}`, now);
      queueMicrotask(() => c.generation === gen && this.exited(c, 127));
    }
  }

  private exited(c: Container, exitCode: number): void {
    const now = this.now();
    const reason = c.killReason;
    c.handle = undefined;
    c.killReason = undefined;
    const detailStatus = reason === "evict" ? "Evicted" : reason ? "Killed" : exitCode === 0 ? "Completed" : "Error";
    if (reason !== "stop") c.current = { state: "Terminated", startTime: c.current.startTime, exitCode, finishTime: stateTime(now), detailStatus };
    if (this.deleted || reason === "stop" || reason === "restart" || reason === "evict") return;
    const init = this.initContainers.indexOf(c);
    if (init >= 0) return this.initExited(init, exitCode);
    const t = this.deps.timings();
    const relaunch = (delay: number) => {
      c.restartPending = true;
      this.after(delay, () => {
        c.restartPending = false;
        c.previous = c.current;
        c.restartCount++;
        this.launch(c);
      });
    };
    if (reason === "platform") return relaunch(t.platformRestartDelayMs);
    const policy = this.spec.restartPolicy;
    if (policy === "Always" || (policy === "OnFailure" && exitCode !== 0)) {
      if (exitCode !== 0) c.events.add("BackOff", "Warning", "Back-off restarting failed container", now);
      relaunch(Math.min(t.restartBackoffMs * 2 ** c.backoffs++, t.maxRestartBackoffMs));
      return;
    }
    if (this.containers.every((x) => x.current.state === "Terminated" && !x.restartPending)) {
      this.state = this.containers.every((x) => x.current.exitCode === 0) ? "Succeeded" : "Failed";
      this.closeBilling();
    }
  }

  private initExited(i: number, exitCode: number): void {
    if (exitCode === 0) return this.runInits(i + 1, this.phase);
    // A failed init container: nothing else starts, and the group has run its course.
    this.state = "Failed";
    if (this.provisioningState === "Creating") this.provisioningState = "Succeeded";
    this.operation?.succeed(this.now());
    this.closeBilling();
  }

  private async killAll(reason: KillReason): Promise<void> {
    const grace = this.deps.timings().killGraceMs;
    const now = this.now();
    const kills: Promise<void>[] = [];
    for (const c of [...this.initContainers, ...this.containers]) {
      c.restartPending = false;
      if (!c.handle) continue;
      c.killReason = reason;
      c.events.add("Killing", "Normal", `Killing container with id ${c.spec.name}.`, now);
      kills.push(c.handle.kill(grace));
    }
    await Promise.all(kills);
  }

  private openBilling(): void {
    if (!this.billingOpen) this.billing.push({ start: this.now(), cpu: this.spec.cpu, memoryInGB: this.spec.memoryInGB });
  }

  private closeBilling(): void {
    const last = this.billing[this.billing.length - 1];
    if (last && last.end === undefined) last.end = this.now();
  }

  /** Cancels every pending step of the current run; late timers see a newer run and do nothing. */
  private invalidate(): void {
    this.run++;
    for (const t of this.timers) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  private after(ms: number, fn: () => void): void {
    const run = this.run;
    const handle = this.deps.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (run === this.run && !this.deleted) fn();
    }, ms);
    this.timers.add(handle);
  }

  private now(): number {
    return this.deps.clock.now();
  }
}

/** The group's command, or the image map's stand-in (its presence was checked at PUT). */
function runFor(spec: ContainerSpec): Launch["run"] {
  const program = lookupProgram(spec.image, spec.command);
  if (program) return { kind: "standIn", entry: program };
  if (spec.command) return { kind: "argv", argv: spec.command };
  const entry = lookupImage(spec.image);
  if (!entry) throw new Error(`no command and no stand-in for image '${spec.image}'`);
  return { kind: "standIn", entry };
}
