/**
 * Instance-view events and container states in ACI's shapes. Events with the same name
 * and message aggregate like the service's do: one entry with a count and the first
 * and last time it happened.
 *
 * Whether a container's instance view shows its events at all depends on the service
 * (see `ContainerEventsMode` in config.ts): live 2023-05-01 answers were recorded both
 * without an `events` key and with one, and other versions list them late and out of
 * time order. `visible()` renders the log the way the configured mode says.
 */
export interface AciEvent {
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  name: string;
  message: string;
  type: "Normal" | "Warning";
}

export interface ContainerStateView {
  state: "Waiting" | "Running" | "Terminated";
  startTime?: string;
  exitCode?: number;
  finishTime?: string;
  detailStatus: string;
}

export type ContainerEventsMode = "absent" | "present" | "late";

/** How events are shown: the mode, and (for `late`) how long after it happened an event appears. */
export interface EventView {
  mode: ContainerEventsMode;
  lateMs: number;
  now: number;
}

/** Events carry whole seconds ("2022-11-11T19:28:22Z"); states carry milliseconds. */
export function eventTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function stateTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

export interface Entry extends AciEvent {
  /** When it first happened, to the millisecond (the timestamps are cut to seconds). */
  firstMs: number;
}

export class EventLog {
  private readonly events: Entry[] = [];

  add(name: string, type: AciEvent["type"], message: string, nowMs: number): void {
    const at = eventTime(nowMs);
    const same = this.events.find((e) => e.name === name && e.message === message);
    if (same) {
      same.count++;
      same.lastTimestamp = at;
      return;
    }
    this.events.push({ count: 1, firstTimestamp: at, lastTimestamp: at, name, message, type, firstMs: nowMs });
  }

  /** Every event, in the order it first happened. */
  list(): AciEvent[] {
    return this.events.map(({ firstMs: _f, ...e }) => ({ ...e }));
  }

  /**
   * The events as the service shows them, or undefined when it shows no `events` key.
   * `late`: an event appears only `lateMs` after it happened, and the list comes newest
   * first, as the 2024-05-01-preview PUT answer listed Started before Pulled before Pulling.
   */
  visible(view: EventView): AciEvent[] | undefined {
    if (view.mode === "absent") return undefined;
    if (view.mode === "present") return this.list();
    return this.events
      .filter((e) => e.firstMs + view.lateMs <= view.now)
      .reverse()
      .map(({ firstMs: _f, ...e }) => ({ ...e }));
  }

  /** The log as kept, for a state file (see stateFile.ts). */
  saved(): Entry[] {
    return this.events.map((e) => ({ ...e }));
  }

  /** Replaces the log with one from a state file. */
  restore(entries: readonly Entry[]): void {
    this.events.splice(0, this.events.length, ...entries.map((e) => ({ ...e })));
  }

  count(name: string): number {
    return this.events.filter((e) => e.name === name).reduce((s, e) => s + e.count, 0);
  }
}
