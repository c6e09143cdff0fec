/**
 * Incremental log capture, pure. ACI returns a window of the log (`timestamps=true`
 * prefixes each line with an RFC 3339 time); Burst keeps a cursor — the last
 * timestamp it stored and how many lines at the end of its copy carry that timestamp —
 * and takes only the lines after it, so nothing is stored twice. When the window no
 * longer reaches back to the cursor, ACI has dropped lines Burst never saw: that is
 * reported, never hidden.
 */

export interface LogLine {
  ts: string;
  text: string;
}

export interface Cursor {
  ts: string;
  n: number;
}

/** Normalises "2026-01-01T00:00:00.5Z" to nanosecond precision so strings compare in time order. */
export function normalizeTs(ts: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return undefined;
  const [, base, frac = "", zone] = m;
  if (zone !== "Z") {
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) return undefined;
    return `${d.toISOString().slice(0, 19)}.${frac.padEnd(9, "0")}Z`;
  }
  return `${base}.${frac.padEnd(9, "0")}Z`;
}

/** Splits timestamped log text into lines. A last line without "\n" is held back unless `final`. */
export function parseTimestamped(content: string, final: boolean): LogLine[] {
  const parts = content.split("\n");
  const last = parts.pop()!;
  if (final && last !== "") parts.push(last);
  const out: LogLine[] = [];
  for (const raw of parts) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const sp = line.indexOf(" ");
    const ts = sp > 0 ? normalizeTs(line.slice(0, sp)) : normalizeTs(line);
    if (!ts) {
      // A line without a timestamp continues the previous one's time (keeps order).
      out.push({ ts: out.at(-1)?.ts ?? "0000-00-00T00:00:00.000000000Z", text: line });
      continue;
    }
    out.push({ ts, text: sp > 0 ? line.slice(sp + 1) : "" });
  }
  return out;
}

export function formatLines(lines: LogLine[]): string {
  return lines.map((l) => `${l.ts} ${l.text}\n`).join("");
}

/** The cursor after the given stored lines (in order). */
export function cursorAfter(lines: LogLine[], previous?: Cursor): Cursor | undefined {
  if (lines.length === 0) return previous;
  const ts = lines.at(-1)!.ts;
  let n = 0;
  for (let i = lines.length - 1; i >= 0 && lines[i]!.ts === ts; i--) n++;
  if (n === lines.length && previous?.ts === ts) n += previous.n;
  return { ts, n };
}

export function newLinesSince(window: LogLine[], cursor: Cursor | undefined): { lines: LogLine[]; gap: boolean } {
  if (!cursor) return { lines: window, gap: false };
  let skipSame = cursor.n;
  const lines: LogLine[] = [];
  for (const l of window) {
    if (l.ts < cursor.ts) continue;
    if (l.ts === cursor.ts && skipSame > 0) { skipSame--; continue; }
    lines.push(l);
  }
  // The window must reach back to the cursor; if its first line is already newer, lines in between were dropped.
  const gap = window.length > 0 && window[0]!.ts > cursor.ts;
  return { lines, gap };
}

/** ACI keeps only this much after a group stops. */
export const STOPPED_LOG_MAX_LINES = 1000;
export const STOPPED_LOG_MAX_BYTES = 16 * 1024;

/**
 * Whether a first-ever read of a stopped group's log may have been cut by ACI's
 * after-stop limit (the window is full, so older lines may be gone).
 */
export function mayBeCutAfterStop(rawContent: string, lineCount: number): boolean {
  return lineCount >= STOPPED_LOG_MAX_LINES || Buffer.byteLength(rawContent) >= STOPPED_LOG_MAX_BYTES - 256;
}
