/**
 * The emulator's state file, so that container groups outlive a restart of the emulator
 * (`npm start` keeps it in .burst/emulator-state.json). Without one, stopping the emulator
 * deleted every group, and a scheduler that came back found its running jobs' groups
 * gone and could only guess when they had stopped.
 *
 * What is kept:
 * - every group that exists, as ARM shows it: spec, provisioning and instance state,
 *   container states, events, and the log lines ACI keeps after a stop (16 KB / 1,000
 *   lines: every restored group has stopped, so that is all a client could read);
 * - the billing meter of every group, deleted ones too, for the Cost Management query.
 *
 * What is not: secure values, registry passwords and other secrets (the file is plain
 * JSON on disk; a restored group that had them refuses start and restart), operations,
 * counters, throttling windows, faults.
 *
 * `savedAt` is the last moment the emulator knew what it ran was alive: the file is
 * written at close, and every second while anything runs or something changed, so a
 * crash loses about a second. On load, whatever was still running is ended at
 * `savedAt` (ContainerGroup.endAfterShutdown): Terminated, billed up to then, not
 * restarted — its processes died with the emulator.
 *
 * Writes are atomic (a temporary file renamed over the old one), so a crash mid-write
 * leaves the previous state, never half of one.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BillingInterval, MeteredGroup } from "./billing.js";
import type { ContainerStateView, Entry } from "./events.js";
import { ContainerGroup, type Container, type GroupDeps, type GroupRef, type GroupState, type ProvisioningState } from "./group.js";
import { cutLog, type LogCutLimits } from "./logs.js";
import { parseGroupBody, sameBody } from "./spec.js";

export const STATE_VERSION = 1;
/** How often the file is rewritten while something runs: what a crash can lose. */
export const SAVE_INTERVAL_MS = 1000;

export class StateFileError extends Error {
  override name = "StateFileError";
}

interface SavedContainer {
  restartCount: number;
  current: ContainerStateView;
  previous?: ContainerStateView;
  events: Entry[];
  /** Stamps in nanoseconds, as decimal strings (JSON has no bigint). */
  logs: { ns: string; text: string }[];
  lastNs: string;
}

interface SavedGroup {
  ref: GroupRef;
  /** The PUT body as stored, without secrets. */
  body: unknown;
  withoutSecrets: boolean;
  createdAt: number;
  provisioningState: ProvisioningState;
  state: GroupState;
  started: boolean;
  billing: BillingInterval[];
  groupEvents: Entry[];
  containers: SavedContainer[];
  initContainers: SavedContainer[];
}

/** A deleted group: only its meter is left. */
interface SavedMeter extends MeteredGroup {
  billing: BillingInterval[];
}

export interface SavedState {
  version: typeof STATE_VERSION;
  savedAt: number;
  groups: SavedGroup[];
  meters: SavedMeter[];
}

type Json = Record<string, unknown>;

/** The body with every secret the ACI API accepts removed (the same ones ARM never returns). */
export function withoutSecrets(body: unknown): unknown {
  const b = structuredClone(body) as Json & { properties: Json };
  const p = b.properties;
  for (const c of [...((p.containers as Json[] | undefined) ?? []), ...((p.initContainers as Json[] | undefined) ?? [])]) {
    for (const e of ((c.properties as Json).environmentVariables as Json[] | undefined) ?? []) delete e.secureValue;
  }
  for (const r of (p.imageRegistryCredentials as Json[] | undefined) ?? []) delete r.password;
  for (const v of (p.volumes as Json[] | undefined) ?? []) {
    if (v.azureFile) delete (v.azureFile as Json).storageAccountKey;
    if (v.secret) v.secret = {};
  }
  const la = (p.diagnostics as Json | undefined)?.logAnalytics as Json | undefined;
  if (la) delete la.workspaceKey;
  for (const e of (p.extensions as Json[] | undefined) ?? []) if (e.properties) delete (e.properties as Json).protectedSettings;
  return b;
}

function saveContainer(c: Container, limits: LogCutLimits): SavedContainer {
  return {
    restartCount: c.restartCount,
    current: { ...c.current },
    ...(c.previous ? { previous: { ...c.previous } } : {}),
    events: c.events.saved(),
    logs: cutLog(c.logs.all(), { stopped: true, limits }).map((l) => ({ ns: l.ns.toString(), text: l.text })),
    lastNs: c.logs.lastStamp.toString(),
  };
}

function saveGroup(g: ContainerGroup, limits: LogCutLimits): SavedGroup {
  const body = withoutSecrets(g.spec.body);
  return {
    ref: { ...g.ref },
    body,
    withoutSecrets: g.restoredWithoutSecrets || !sameBody(body, g.spec.body),
    createdAt: g.createdAt,
    provisioningState: g.provisioningState,
    state: g.state,
    started: g.started,
    billing: g.billing.map((i) => ({ ...i })),
    groupEvents: g.groupEvents.saved(),
    containers: g.containers.map((c) => saveContainer(c, limits)),
    initContainers: g.initContainers.map((c) => saveContainer(c, limits)),
  };
}

/** Everything worth keeping, as of `now`. */
export function saveState(groups: Iterable<ContainerGroup>, ledger: readonly MeteredGroup[], now: number, limits: LogCutLimits): SavedState {
  const meters: SavedMeter[] = ledger.filter((m) => m.deleted).map((m) => ({
    ref: { subscriptionId: m.ref.subscriptionId, resourceGroup: m.ref.resourceGroup, name: m.ref.name, id: m.ref.id },
    spec: { region: m.spec.region, priority: m.spec.priority, cpu: m.spec.cpu, memoryInGB: m.spec.memoryInGB },
    deleted: true,
    createdAt: m.createdAt,
    ...(m.deletedAt !== undefined ? { deletedAt: m.deletedAt } : {}),
    billing: m.billing.map((i) => ({ ...i })),
  }));
  return { version: STATE_VERSION, savedAt: now, groups: [...groups].map((g) => saveGroup(g, limits)), meters };
}

function restoreContainers(live: Container[], saved: SavedContainer[], group: string): void {
  if (live.length !== saved.length) throw new StateFileError(`container group '${group}': the spec has ${live.length} containers, the saved state ${saved.length}`);
  live.forEach((c, i) => {
    const s = saved[i]!;
    c.restartCount = s.restartCount;
    c.current = { ...s.current };
    c.previous = s.previous ? { ...s.previous } : undefined;
    c.events.restore(s.events);
    c.logs.restore(s.logs.map((l) => ({ ns: BigInt(l.ns), text: l.text })), BigInt(s.lastNs));
  });
}

/** A group as it was saved, with whatever still ran then ended at `savedAt`. */
export function restoreGroup(s: SavedGroup, deps: GroupDeps, savedAt: number): ContainerGroup {
  let g: ContainerGroup;
  try {
    g = new ContainerGroup(s.ref, parseGroupBody(structuredClone(s.body), s.ref.name), { extraPullMs: 0 }, deps, s.createdAt);
  } catch (err) {
    throw new StateFileError(`container group '${s.ref.name}': ${err instanceof Error ? err.message : String(err)}`);
  }
  g.provisioningState = s.provisioningState;
  g.state = s.state;
  g.started = s.started;
  g.billing.push(...s.billing.map((i) => ({ ...i })));
  g.groupEvents.restore(s.groupEvents);
  restoreContainers(g.containers, s.containers, s.ref.name);
  restoreContainers(g.initContainers, s.initContainers, s.ref.name);
  g.restoredWithoutSecrets = s.withoutSecrets;
  g.endAfterShutdown(savedAt);
  return g;
}

/**
 * One state file: read once at start, then written in the background. Writes never
 * overlap, and the last one (at close) lands after any still in flight.
 */
export class StateFile {
  private timer?: ReturnType<typeof setInterval>;
  private writing: Promise<void> = Promise.resolve();
  /** The last content written, without its time: unchanged content is rewritten only while something runs. */
  private lastContent?: string;

  constructor(readonly file: string) {}

  /** The saved state, or undefined when there is no file yet. */
  load(): SavedState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StateFileError(`cannot read the state file ${this.file}: ${(err as Error).message}`);
    }
    let state: SavedState;
    try {
      state = JSON.parse(text) as SavedState;
    } catch (err) {
      throw new StateFileError(`the state file ${this.file} is not JSON (${(err as Error).message}); move it away to start without the saved groups`);
    }
    if (state?.version !== STATE_VERSION || typeof state.savedAt !== "number" || !Array.isArray(state.groups) || !Array.isArray(state.meters)) {
      throw new StateFileError(`the state file ${this.file} is not a version ${STATE_VERSION} emulator state (version ${JSON.stringify(state?.version)}); move it away to start without the saved groups`);
    }
    return state;
  }

  /** Saves every `intervalMs` while `running()` says something runs, or when the content changed. */
  saveEvery(intervalMs: number, snapshot: () => SavedState, running: () => boolean): void {
    this.timer = setInterval(() => {
      // A write still in flight: skip this tick rather than queue up behind it.
      if (this.busy) return;
      this.write(snapshot(), running());
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic saves and writes `final` once every earlier write has landed. */
  async close(final: SavedState): Promise<void> {
    clearInterval(this.timer);
    this.write(final, true);
    await this.writing;
  }

  private busy = false;

  private write(state: SavedState, always: boolean): void {
    const { version, savedAt, ...rest } = state;
    const content = JSON.stringify(rest);
    if (!always && content === this.lastContent) return;
    this.lastContent = content;
    // The time goes in front of the content already serialised, rather than serialising twice.
    const text = `{"version":${version},"savedAt":${savedAt},${content.slice(1)}\n`;
    const tmp = `${this.file}.${process.pid}.tmp`;
    this.busy = true;
    this.writing = this.writing
      .then(async () => {
        mkdirSync(path.dirname(this.file), { recursive: true });
        // Owner-only: it holds the groups' commands and plain environment values.
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, this.file);
      })
      .catch((err: unknown) => {
        // A failed save must not stop the emulator; the next one tries again.
        this.lastContent = undefined;
        process.stderr.write(`aci-emulator: could not save state to ${this.file}: ${err instanceof Error ? err.message : String(err)}\n`);
      })
      .finally(() => {
        this.busy = false;
      });
  }
}
