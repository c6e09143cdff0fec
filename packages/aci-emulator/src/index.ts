/**
 * The ACI emulator: a local HTTP server speaking the ARM protocol of
 * Microsoft.ContainerInstance api-version 2023-05-01, so the real
 * @azure/arm-containerinstance client works against it unchanged.
 *
 *   const emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 50 } });
 *   const client = createAciClient({ subscriptionId: "sub", endpoint: emulator.url });
 *   …
 *   await emulator.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin.js";
import { handleArm } from "./arm.js";
import { refusal, send } from "./http.js";
import { realClock, type Clock } from "./clock.js";
import {
  applyCosts, applyFidelity, applyLimits, applyTimings, buildFaults, DEFAULT_COSTS, DEFAULT_FIDELITY, DEFAULT_LIMITS, DEFAULT_TIMINGS,
  type CostSettings, type CostsPatch, type EmulatorFidelity, type EmulatorLimits, type EmulatorTimings, type FaultConfig,
  type FaultsInput, type FidelityPatch, type LimitsPatch, type TimingsPatch,
} from "./config.js";
import { ProcessRuntime } from "./runtime/process.js";
import type { ContainerRuntime, RuntimeKind } from "./runtime/runtime.js";
import { SimRuntime } from "./runtime/sim.js";
import { AciService } from "./service.js";
import { buildStats, type EmulatorStats } from "./stats.js";
import { SAVE_INTERVAL_MS, StateFile } from "./stateFile.js";

export type {
  EmulatorLimits, EmulatorTimings, FaultConfig, FaultsInput, LimitsPatch, TimingsPatch, Targeting,
  EmulatorFidelity, FidelityPatch, CostSettings, CostsPatch,
} from "./config.js";
export { DEFAULT_LIMITS, DEFAULT_TIMINGS, DEFAULT_FIDELITY, DEFAULT_COSTS, NO_FAULTS, ConfigError } from "./config.js";
export type { ContainerEventsMode } from "./events.js";
export { ManualClock, realClock, type Clock } from "./clock.js";
export type { ContainerRuntime, Launch, RunningContainer, GroupAddress } from "./runtime/runtime.js";
export type { EmulatorStats, BillingEntry, AliveGroup } from "./stats.js";
export type { RuntimeKind } from "./runtime/runtime.js";
export { API_VERSION } from "./arm.js";
export { StateFileError } from "./stateFile.js";
export { EMULATOR_STOPPED_DETAIL } from "./group.js";
/** The seeded PRNG behind fault injection, so callers can replay their own runs from a seed too. */
export { createRng, type Rng } from "./rng.js";

export interface EmulatorOptions {
  /** TCP port; 0 or absent picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** `process` runs commands as local child processes (default); `sim` interprets a shell subset with timers. */
  runtime?: RuntimeKind | ContainerRuntime;
  /** Drives lifecycle timers, throttling windows, billing and log timestamps. */
  clock?: Clock;
  limits?: LimitsPatch;
  timings?: TimingsPatch;
  faults?: FaultsInput;
  /** Which recorded live shape to follow where recordings differ (container events). */
  fidelity?: FidelityPatch;
  /** The Cost Management query's delay and prices. */
  costs?: CostsPatch;
  /**
   * When set, every call (ARM and /_emulator/) must carry `Authorization: Bearer <token>`:
   * the process runtime runs commands as the user, so nobody else on the machine should be
   * able to start one. Burst passes it with BURST_EMULATOR_TOKEN.
   */
  token?: string;
  /** Answer any Host header, not only loopback names (for an emulator deliberately listening beyond loopback). */
  anyHost?: boolean;
  /**
   * Keep container groups across restarts in this JSON file (see stateFile.ts): read at
   * start, written every second while anything runs and at close, which then keeps the
   * groups instead of deleting them. Groups that ran when the emulator stopped come back
   * Terminated at that moment, billed up to it, and are not restarted. Without it
   * (the default) nothing is kept.
   */
  stateFile?: string;
}

export interface GroupTarget {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface RunningEmulator {
  /** Base URL to give createAciClient as `endpoint`, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly runtime: RuntimeKind;
  /** What a state file brought back at start: its groups, how many of them were ended (they ran when it stopped), and when. */
  readonly restored?: { file: string; savedAt: string; groups: number; ended: number };
  /** Stops the server and kills every process; deletes every group, unless a state file keeps them (saved first). */
  close(): Promise<void>;
  /** Deletes every group and kills processes; zeroes counters, meters and throttling. Keeps faults, limits, timings. */
  reset(): Promise<void>;
  stats(): EmulatorStats;
  faults(): FaultConfig;
  /** Replaces the fault configuration; anything not given is off. */
  setFaults(faults: FaultsInput): FaultConfig;
  limits(): EmulatorLimits;
  /** Merges into the current limits. */
  setLimits(limits: LimitsPatch): EmulatorLimits;
  timings(): EmulatorTimings;
  setTimings(timings: TimingsPatch): EmulatorTimings;
  fidelity(): EmulatorFidelity;
  /** Merges into the current fidelity settings. */
  setFidelity(fidelity: FidelityPatch): EmulatorFidelity;
  costs(): CostSettings;
  setCosts(costs: CostsPatch): CostSettings;
  /** The platform kills and restarts a running container (the first running one unless named). */
  platformRestart(target: GroupTarget & { container?: string }): boolean;
  /** Evicts a running Spot group; it comes back after timings.spotRestartDelayMs. */
  evict(target: GroupTarget): Promise<boolean>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const clock = options.clock ?? realClock;
  const runtime: ContainerRuntime =
    typeof options.runtime === "object" ? options.runtime : options.runtime === "sim" ? new SimRuntime() : new ProcessRuntime();
  const service = new AciService({
    runtime,
    clock,
    limits: applyLimits(DEFAULT_LIMITS, options.limits),
    timings: applyTimings(DEFAULT_TIMINGS, options.timings),
    faults: buildFaults(options.faults, clock.now()),
    fidelity: applyFidelity(DEFAULT_FIDELITY, options.fidelity),
    costs: applyCosts(DEFAULT_COSTS, options.costs),
  });
  const stateFile = options.stateFile ? new StateFile(options.stateFile) : undefined;
  const saved = stateFile?.load();
  const restored = saved && { file: stateFile!.file, savedAt: new Date(saved.savedAt).toISOString(), ...service.restore(saved) };

  const access = { token: options.token || undefined, anyHost: options.anyHost ?? false };
  const server = http.createServer((req, res) => {
    const refused = refusal(req, access);
    if (refused) return send(req, res, refused);
    const url = new URL(req.url ?? "/", "http://emulator");
    const handle = url.pathname === "/_emulator" || url.pathname.startsWith("/_emulator/") ? handleAdmin : handleArm;
    handle(service, req, res, url).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  stateFile?.saveEvery(SAVE_INTERVAL_MS, () => service.snapshot(), () => service.running);
  const find = (t: GroupTarget) => service.find(t.subscriptionId, t.resourceGroup, t.name);
  let closed: Promise<void> | undefined;

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    runtime: runtime.kind,
    ...(restored ? { restored } : {}),
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // Saved before anything is killed: what still runs is kept as running until now, and ended here on the next start.
        await stateFile?.close(service.snapshot());
        await service.reset();
        await runtime.close();
        await stopped;
      })()),
    reset: () => service.reset(),
    stats: () => buildStats(runtime.kind, service.counters, service.groups.values(), service.ledger, clock.now()),
    faults: () => service.faults,
    setFaults: (f) => service.setFaults(f),
    limits: () => service.limits,
    setLimits: (l) => service.setLimits(l),
    timings: () => service.timings,
    setTimings: (t) => service.setTimings(t),
    fidelity: () => service.fidelity,
    setFidelity: (f) => service.setFidelity(f),
    costs: () => service.costs,
    setCosts: (c) => service.setCosts(c),
    platformRestart: (t) => find(t).platformRestart(t.container),
    evict: (t) => find(t).evict(),
  };
}
