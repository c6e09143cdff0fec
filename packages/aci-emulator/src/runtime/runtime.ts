/**
 * The seam between the lifecycle model (states, events, billing, logs, all shared) and
 * "run the command", which is the only thing the two runtimes do differently.
 */
import type { ImageEntry } from "../images.js";

export type RuntimeKind = "process" | "sim";

/** PATH for a command when the host has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Launch {
  /** For messages: "resourceGroup/group/container". */
  label: string;
  /** The group's command, or the image map's stand-in when the group gave none. */
  run: { kind: "argv"; argv: string[] } | { kind: "standIn"; entry: ImageEntry };
  /** Plain and secure environment variables together, as the container sees them. */
  env: Record<string, string>;
  network?: GroupAddress;
  /** Each complete line of stdout or stderr, in arrival order. */
  onLine(text: string): void;
  /** Called exactly once, also after kill(). */
  onExit(exitCode: number): void;
}

export interface RunningContainer {
  /** SIGTERM, then SIGKILL after graceMs; resolves once the container has exited. */
  kill(graceMs: number): Promise<void>;
}

export interface GroupAddress {
  ip: string;
  /** Requested container-group port → the port that is actually served. */
  ports: { port: number; hostPort: number }[];
}

export interface ContainerRuntime {
  readonly kind: RuntimeKind;
  launch(launch: Launch): RunningContainer;
  /** An address for a group that asks for an IP address. */
  allocateAddress(ports: number[]): Promise<GroupAddress>;
  releaseAddress(address: GroupAddress): void;
  /** Kills whatever still runs. */
  close(): Promise<void>;
}

/** Environment variables that tell a stand-in where to listen. */
export function networkEnv(address: GroupAddress | undefined): Record<string, string> {
  if (!address) return {};
  return {
    ACI_EMULATOR_IP: address.ip,
    ACI_EMULATOR_PORTS: address.ports.map((p) => `${p.port}=${p.hostPort}`).join(","),
  };
}

/** Splits a stream of text into lines; a final partial line is flushed on end(). */
export class LineSplitter {
  private pending = "";

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: string): void {
    const text = this.pending + chunk;
    const parts = text.split("\n");
    this.pending = parts.pop()!;
    for (const line of parts) this.emit(line);
  }

  end(): void {
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = "";
  }
}
