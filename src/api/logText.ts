/**
 * A job's log as one byte stream with stable offsets, for reading in pieces.
 *
 * Each attempt's log is an append blob of whole `<timestamp> <text>\n` lines. Reading
 * all attempts, the stream is attempt 1's blob, then a separator line
 * `--- attempt 2 ---\n`, then attempt 2's blob, and so on; with `attempt=N` it is that
 * blob alone. Offsets count bytes of this stream as stored (timestamps included, even
 * when they are stripped from the answer), so they stay valid whatever the client
 * asks to see. They are stable because only the last attempt's blob ever grows, and
 * only at its end.
 */
import { isFinal } from "../jobState.js";
import type { JobRecord, JobState } from "../model.js";
import type { Deps } from "../scheduler/deps.js";

/** At most this much of the stream per answer (it exceeds the longest stored line, 4 MiB, so a piece always ends on a line). */
export const MAX_LOG_CHUNK_BYTES = 8 * 1024 * 1024;

export const separatorLine = (attempt: number) => `--- attempt ${attempt} ---\n`;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /gm;

export function stripTimestamps(text: string): string {
  return text.replace(TIMESTAMP, "");
}

export interface LogChunk {
  text: string;
  /** Where the next read starts. */
  nextOffset: number;
  /** More is stored past this piece already: read again at once. */
  more: boolean;
  /** Nothing more will ever be added past nextOffset: the job (or the asked attempt) has ended and all of it was read. */
  complete: boolean;
  state: JobState;
  ended: boolean;
}

interface Segment {
  attempt: number;
  separator: boolean;
  start: number;
  size: number;
}

/**
 * Reads from `offset`. The job record must have been read before this is called: if
 * it shows the job ended, its blobs were already final, so "complete" is never said
 * early.
 */
export async function readLogChunk(
  deps: Deps,
  job: JobRecord,
  opts: { attempt?: number; offset: number; timestamps: boolean; maxBytes?: number },
): Promise<LogChunk> {
  const attempts = opts.attempt !== undefined ? [opts.attempt] : job.attempts.map((a) => a.n);
  const sizes = await Promise.all(attempts.map(async (n) => (await deps.logs.read(job.id, n, Number.MAX_SAFE_INTEGER)).size));
  const segments: Segment[] = [];
  let total = 0;
  attempts.forEach((n, i) => {
    if (opts.attempt === undefined && n > 1) {
      const size = separatorLine(n).length;
      segments.push({ attempt: n, separator: true, start: total, size });
      total += size;
    }
    segments.push({ attempt: n, separator: false, start: total, size: sizes[i]! });
    total += sizes[i]!;
  });

  let cursor = opts.offset;
  let budget = opts.maxBytes ?? MAX_LOG_CHUNK_BYTES;
  let out = "";
  for (const seg of segments) {
    const end = seg.start + seg.size;
    if (cursor >= end) continue;
    if (budget <= 0) break;
    const local = cursor - seg.start;
    if (seg.separator) {
      const piece = separatorLine(seg.attempt).slice(local);
      out += piece;
      cursor = end;
      budget -= piece.length;
      continue;
    }
    const want = Math.min(end - cursor, budget);
    const cut = want < end - cursor;
    let { text } = await deps.logs.read(job.id, seg.attempt, local, want);
    let consumed = want;
    if (cut) {
      // Stop at the last whole line; the rest comes with the next read.
      const nl = text.lastIndexOf("\n");
      if (nl >= 0) {
        text = text.slice(0, nl + 1);
        consumed = Buffer.byteLength(text);
      } else if (out !== "") {
        break; // Not even one line fits in what is left of this answer: it starts the next one.
      }
      // Otherwise a single line longer than a whole answer goes out in pieces (cannot happen with the default cap).
    }
    out += opts.timestamps ? text : stripTimestamps(text);
    cursor += consumed;
    budget -= consumed;
    if (cut) break;
  }
  const ended = isFinal(job.state);
  const attemptEnded = opts.attempt === undefined ? ended : ended || job.attempts.find((a) => a.n === opts.attempt)?.outcome !== undefined;
  return { text: out, nextOffset: cursor, more: cursor < total, complete: attemptEnded && cursor >= total, state: job.state, ended };
}

export function logHeaders(chunk: LogChunk): Record<string, string> {
  return {
    "x-burst-log-offset": String(chunk.nextOffset),
    "x-burst-log-more": String(chunk.more),
    "x-burst-log-complete": String(chunk.complete),
    "x-burst-job-state": chunk.state,
    "x-burst-job-ended": String(chunk.ended),
  };
}
