/**
 * Container logs: one buffer per container, each line stamped on arrival with a strictly
 * increasing nanosecond timestamp (a client can use the last one it saw as a cursor).
 * `cutLog` is the pure rule for what the logs API returns.
 */
export interface LogLine {
  /** Nanoseconds since the epoch. */
  ns: bigint;
  text: string;
}

export interface LogCutLimits {
  /** While the group runs: up to this many bytes from the end (ACI: 4 MB). */
  runningBytes: number;
  /** Once the group has stopped: at most this many bytes … (ACI: 16 KB) */
  stoppedBytes: number;
  /** … and at most this many lines, whichever is smaller (ACI: 1,000). */
  stoppedLines: number;
}

export const ACI_LOG_LIMITS: LogCutLimits = {
  runningBytes: 4 * 1024 * 1024,
  stoppedBytes: 16 * 1024,
  stoppedLines: 1000,
};

export function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6));
}

/** RFC 3339 with nine fractional digits, as `docker logs --timestamps` prints. */
export function formatNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-27T06:00:00.123Z
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

function lineBytes(line: LogLine): number {
  return Buffer.byteLength(line.text) + 1; // the newline
}

/**
 * The lines the logs API returns. Whole lines only: the byte limits keep the longest
 * suffix of complete lines that fits, so a timestamp prefix is never cut in half.
 */
export function cutLog(lines: readonly LogLine[], options: { stopped: boolean; tail?: number; limits?: LogCutLimits }): LogLine[] {
  const limits = options.limits ?? ACI_LOG_LIMITS;
  const maxLines = options.stopped ? limits.stoppedLines : Number.POSITIVE_INFINITY;
  const maxBytes = options.stopped ? limits.stoppedBytes : limits.runningBytes;
  let bytes = 0;
  let first = lines.length;
  while (first > 0 && lines.length - first < maxLines) {
    const size = lineBytes(lines[first - 1]!);
    if (bytes + size > maxBytes) break;
    bytes += size;
    first--;
  }
  let kept = lines.slice(first);
  if (options.tail !== undefined && options.tail >= 0 && options.tail < kept.length) kept = kept.slice(kept.length - options.tail);
  return kept;
}

export function renderLog(lines: readonly LogLine[], timestamps: boolean): string {
  let out = "";
  for (const line of lines) out += timestamps ? `${formatNs(line.ns)} ${line.text}\n` : `${line.text}\n`;
  return out;
}

/** Keeps a container's lines, trimmed so it never holds much more than the running limit. */
export class LogBuffer {
  private lines: LogLine[] = [];
  private bytes = 0;
  private lastNs = 0n;

  constructor(private readonly maxBytes = ACI_LOG_LIMITS.runningBytes) {}

  append(text: string, nowMs: number): LogLine {
    let ns = msToNs(nowMs);
    if (ns <= this.lastNs) ns = this.lastNs + 1n;
    this.lastNs = ns;
    const line = { ns, text };
    this.lines.push(line);
    this.bytes += lineBytes(line);
    // Trim in batches (at 2x) so appends stay amortised O(1).
    if (this.bytes > this.maxBytes * 2) this.trim();
    return line;
  }

  all(): readonly LogLine[] {
    if (this.bytes > this.maxBytes) this.trim();
    return this.lines;
  }

  /** The stamp of the last line ever appended (0 before any). */
  get lastStamp(): bigint {
    return this.lastNs;
  }

  /** Replaces the content with lines from a state file; later lines stamp after `lastNs`. */
  restore(lines: readonly LogLine[], lastNs: bigint): void {
    this.lines = lines.map((l) => ({ ...l }));
    this.bytes = this.lines.reduce((s, l) => s + lineBytes(l), 0);
    this.lastNs = lastNs;
  }

  /** Forgets the content but not the last timestamp, so cursors stay monotonic. */
  clear(): void {
    this.lines = [];
    this.bytes = 0;
  }

  private trim(): void {
    let drop = 0;
    while (this.bytes > this.maxBytes && drop < this.lines.length) this.bytes -= lineBytes(this.lines[drop++]!);
    this.lines = this.lines.slice(drop);
  }
}
