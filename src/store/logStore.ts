/**
 * Job logs in append blobs: `<prefix>-logs/jobs/<job id>/attempt-<n>.log`, one line per
 * log line, prefixed with its ACI timestamp. The blob itself is the capture cursor:
 * its tail says what was stored last, and appends are conditional on its length, so
 * a redelivered or duplicated poll can neither skip nor repeat a line.
 *
 * An append blob takes at most 50,000 blocks (one per append), which a long, chatty job
 * polled every few seconds reaches in days. So an attempt's log is a series of segments:
 * `attempt-<n>.log`, then `attempt-<n>.log.1`, `.2`, …, each started when the one before
 * has `maxBlocks` blocks. Readers see one stream: offsets and sizes count every segment.
 */
import type { AppendBlobClient, ContainerClient } from "@azure/storage-blob";
import { cursorAfter, parseTimestamped, type Cursor } from "../logCursor.js";
import { isConflict, isNotFound, statusOf } from "./tables.js";

const JOB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TAIL_BYTES = 64 * 1024;
const MAX_APPEND = 4 * 1024 * 1024;
/** Azure's limit is 50,000 blocks per append blob; roll over a little before it. */
export const MAX_BLOCKS_PER_SEGMENT = 49_000;

/** Blob paths are built from Burst's own ids only; nothing a job submits can steer them. */
export function logBlobName(jobId: string, attempt: number, segment = 0): string {
  if (!JOB_ID.test(jobId) || !Number.isInteger(attempt) || attempt < 1) throw new Error(`invalid log path for job ${JSON.stringify(jobId)} attempt ${attempt}`);
  return `jobs/${jobId}/attempt-${attempt}.log${segment > 0 ? `.${segment}` : ""}`;
}

interface Segment {
  index: number;
  /** Offset of its first byte in the attempt's stream. */
  start: number;
  size: number;
  blocks: number;
}

/** Each attempt's log as one stream of timestamped lines, as the scheduler and the API use it. */
export interface LogStore {
  /** The stream's length and the cursor after its last line. */
  tail(jobId: string, attempt: number): Promise<{ size: number; cursor?: Cursor }>;
  /** Appends whole lines at `expectedSize`; false when another writer appended first. */
  append(jobId: string, attempt: number, lines: string[], expectedSize: number): Promise<boolean>;
  /** The stored text from a byte offset, at most `maxBytes` of it. */
  read(jobId: string, attempt: number, offset?: number, maxBytes?: number): Promise<{ text: string; size: number }>;
  /** Deletes every segment of every attempt of the job (retention); returns how many blobs it deleted. */
  deleteJob(jobId: string): Promise<number>;
}

/** How many attempts' segment lists a store remembers (#known). */
const KNOWN_ATTEMPTS = 1000;

export class BlobLogStore implements LogStore {
  #ready?: Promise<unknown>;
  /**
   * Per attempt: its segments as this process last saw or wrote them, so a capture (a
   * tail, then an append) does not ask the blobs' sizes twice, nor again at the next poll.
   * A list another writer made stale costs nothing wrong: appends are conditional on
   * their position, so the append is refused, the list forgotten, and the caller reads
   * the tail again. Readers (read) always ask.
   */
  readonly #known = new Map<string, Segment[]>();
  constructor(private readonly container: ContainerClient, private readonly maxBlocks = MAX_BLOCKS_PER_SEGMENT) {}

  #ensure(): Promise<unknown> {
    this.#ready ??= this.container.createIfNotExists().catch((err) => { this.#ready = undefined; throw err; });
    return this.#ready;
  }

  #blob(jobId: string, attempt: number, segment: number): AppendBlobClient {
    return this.container.getAppendBlobClient(logBlobName(jobId, attempt, segment));
  }

  /** The attempt's segments in order, with where each starts in the stream (none: no log yet). */
  async #segments(jobId: string, attempt: number): Promise<Segment[]> {
    const out: Segment[] = [];
    let start = 0;
    // Segments are made one after another, so the first missing one ends the list.
    for (let index = 0; ; index++) {
      let props;
      try {
        props = await this.#blob(jobId, attempt, index).getProperties();
      } catch (err) {
        if (isNotFound(err)) return out;
        throw err;
      }
      const size = props.contentLength ?? 0;
      out.push({ index, start, size, blocks: props.blobCommittedBlockCount ?? 0 });
      start += size;
      if ((props.blobCommittedBlockCount ?? 0) < this.maxBlocks) return out;
    }
  }

  async #knownSegments(jobId: string, attempt: number): Promise<Segment[]> {
    const key = `${jobId}/${attempt}`;
    const known = this.#known.get(key);
    if (known) return known.map((s) => ({ ...s }));
    const segments = await this.#segments(jobId, attempt);
    this.#remember(key, segments);
    return segments.map((s) => ({ ...s }));
  }

  #remember(key: string, segments: Segment[] | undefined): void {
    this.#known.delete(key);
    if (!segments) return;
    this.#known.set(key, segments.map((s) => ({ ...s })));
    if (this.#known.size > KNOWN_ATTEMPTS) this.#known.delete(this.#known.keys().next().value!);
  }

  /** The stream's length and the cursor after its last line. */
  async tail(jobId: string, attempt: number): Promise<{ size: number; cursor?: Cursor }> {
    await this.#ensure();
    const segments = await this.#knownSegments(jobId, attempt);
    const size = segments.reduce((t, s) => t + s.size, 0);
    // The last line is in the last segment that holds anything.
    const last = [...segments].reverse().find((s) => s.size > 0);
    if (!last) return { size };
    const from = Math.max(0, last.size - TAIL_BYTES);
    const text = (await this.#blob(jobId, attempt, last.index).downloadToBuffer(from, last.size - from)).toString("utf8");
    // Drop a partial first line when the read starts mid-blob.
    const body = from > 0 ? text.slice(text.indexOf("\n") + 1) : text;
    return { size, cursor: cursorAfter(parseTimestamped(body, false)) };
  }

  /**
   * Appends whole lines at `expectedSize` (of the whole stream); returns false when the
   * log has moved on (another poll appended first), so the caller re-reads the cursor.
   * Blocks end on line boundaries, so an interrupted append never leaves half a line behind.
   */
  async append(jobId: string, attempt: number, lines: string[], expectedSize: number): Promise<boolean> {
    await this.#ensure();
    const key = `${jobId}/${attempt}`;
    const segments = await this.#knownSegments(jobId, attempt);
    const total = segments.reduce((t, s) => t + s.size, 0);
    if (total !== expectedSize) {
      this.#remember(key, undefined);
      return false;
    }
    let seg = segments.at(-1);
    let pos = seg ? expectedSize - seg.start : 0;
    const chunks = [...blocks(lines)];
    if (!seg || seg.blocks + chunks.length > this.maxBlocks) {
      // A new segment (the first one, or the next when this one is nearly full).
      const index = seg ? seg.index + 1 : 0;
      try {
        await this.#blob(jobId, attempt, index).create({ conditions: { ifNoneMatch: "*" }, blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" } });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      seg = { index, start: expectedSize, size: 0, blocks: 0 };
      segments.push(seg);
      pos = 0;
    }
    const blob = this.#blob(jobId, attempt, seg.index);
    for (const chunk of chunks) {
      try {
        await blob.appendBlock(chunk, chunk.length, { conditions: { appendPosition: pos } });
      } catch (err) {
        this.#remember(key, undefined);
        if (statusOf(err) === 412) return false;
        throw err;
      }
      pos += chunk.length;
      seg.size += chunk.length;
      seg.blocks++;
    }
    this.#remember(key, segments);
    return true;
  }

  /** The stored text of one attempt from a byte offset, at most `maxBytes` of it (for the API and follow). */
  async read(jobId: string, attempt: number, offset = 0, maxBytes = Number.MAX_SAFE_INTEGER): Promise<{ text: string; size: number }> {
    await this.#ensure();
    const segments = await this.#segments(jobId, attempt);
    const size = segments.reduce((t, s) => t + s.size, 0);
    const parts: Buffer[] = [];
    let want = Math.min(Math.max(0, size - offset), maxBytes);
    let at = offset;
    for (const s of segments) {
      if (want <= 0) break;
      if (at >= s.start + s.size || s.size === 0) continue;
      const local = at - s.start;
      const n = Math.min(want, s.size - local);
      parts.push(await this.#blob(jobId, attempt, s.index).downloadToBuffer(local, n));
      at += n;
      want -= n;
    }
    return { text: Buffer.concat(parts).toString("utf8"), size };
  }

  async deleteJob(jobId: string): Promise<number> {
    await this.#ensure();
    for (const key of [...this.#known.keys()]) if (key.startsWith(`${jobId}/`)) this.#known.delete(key);
    return deleteUnder(this.container, jobId);
  }
}

/** Deletes every blob under `jobs/<id>/`: all attempts, all segments; one already gone is fine. */
async function deleteUnder(container: ContainerClient, jobId: string): Promise<number> {
  const prefix = `${logBlobName(jobId, 1).split("/").slice(0, 2).join("/")}/`;
  let n = 0;
  for await (const b of container.listBlobsFlat({ prefix })) {
    try {
      await container.deleteBlob(b.name);
      n++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return n;
}

function* blocks(lines: string[]): Generator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    const b = Buffer.from(line, "utf8");
    if (size + b.length > MAX_APPEND && parts.length > 0) {
      yield Buffer.concat(parts);
      parts = [];
      size = 0;
    }
    // A single line over the block limit is cut, keeping its line ending.
    parts.push(b.length > MAX_APPEND ? Buffer.concat([b.subarray(0, MAX_APPEND - 1), Buffer.from("\n")]) : b);
    size += Math.min(b.length, MAX_APPEND);
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}
