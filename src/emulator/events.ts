/**
 * Instance-view events and container states in ACI's shapes. Events with the same name
 * and message aggregate like the service's do: one entry with a count and the first
 * and last time it happened.
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

/** Events carry whole seconds ("2022-11-11T19:28:22Z"); states carry milliseconds. */
export function eventTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function stateTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

export class EventLog {
  private readonly events: AciEvent[] = [];

  add(name: string, type: AciEvent["type"], message: string, nowMs: number): void {
    const at = eventTime(nowMs);
    const same = this.events.find((e) => e.name === name && e.message === message);
    if (same) {
      same.count++;
      same.lastTimestamp = at;
      return;
    }
    this.events.push({ count: 1, firstTimestamp: at, lastTimestamp: at, name, message, type });
  }

  list(): AciEvent[] {
    return this.events.map((e) => ({ ...e }));
  }

  count(name: string): number {
    return this.events.filter((e) => e.name === name).reduce((s, e) => s + e.count, 0);
  }
}
