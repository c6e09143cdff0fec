/**
 * Job logs in append blobs: `<prefix>-logs/jobs/<job id>/attempt-<n>.log`, one line per
 * log line, prefixed with its ACI timestamp. The blob itself is the capture cursor:
 * its tail says what was stored last, and appends are conditional on its length, so
 * a redelivered or duplicated poll can neither skip nor repeat a line.
 */
import type { ContainerClient } from "@azure/storage-blob";
import { cursorAfter, parseTimestamped, type Cursor } from "../logCursor.js";
import { isConflict, isNotFound, statusOf } from "./tables.js";

const JOB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TAIL_BYTES = 64 * 1024;
const MAX_APPEND = 4 * 1024 * 1024;

/** Blob paths are built from Burst's own ids only; nothing a job submits can steer them. */
export function logBlobName(jobId: string, attempt: number): string {
  if (!JOB_ID.test(jobId) || !Number.isInteger(attempt) || attempt < 1) throw new Error(`invalid log path for job ${JSON.stringify(jobId)} attempt ${attempt}`);
  return `jobs/${jobId}/attempt-${attempt}.log`;
}

export class LogStore {
  #ready?: Promise<unknown>;
  constructor(private readonly container: ContainerClient) {}

  #ensure(): Promise<unknown> {
    this.#ready ??= this.container.createIfNotExists().catch((err) => { this.#ready = undefined; throw err; });
    return this.#ready;
  }

  /** The blob's length and the cursor after its last line. */
  async tail(jobId: string, attempt: number): Promise<{ size: number; cursor?: Cursor }> {
    await this.#ensure();
    const blob = this.container.getAppendBlobClient(logBlobName(jobId, attempt));
    let size: number;
    try {
      size = (await blob.getProperties()).contentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return { size: 0 };
      throw err;
    }
    if (size === 0) return { size };
    const start = Math.max(0, size - TAIL_BYTES);
    const text = (await blob.downloadToBuffer(start, size - start)).toString("utf8");
    // Drop a partial first line when the read starts mid-blob.
    const body = start > 0 ? text.slice(text.indexOf("\n") + 1) : text;
    return { size, cursor: cursorAfter(parseTimestamped(body, false)) };
  }

  /**
   * Appends whole lines at `expectedSize`; returns false when the blob has moved on
   * (another poll appended first), so the caller re-reads the cursor. Blocks end on
   * line boundaries, so an interrupted append never leaves half a line behind.
   */
  async append(jobId: string, attempt: number, lines: string[], expectedSize: number): Promise<boolean> {
    await this.#ensure();
    const blob = this.container.getAppendBlobClient(logBlobName(jobId, attempt));
    if (expectedSize === 0) {
      try {
        await blob.create({ conditions: { ifNoneMatch: "*" }, blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" } });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    let pos = expectedSize;
    for (const chunk of blocks(lines)) {
      try {
        await blob.appendBlock(chunk, chunk.length, { conditions: { appendPosition: pos } });
      } catch (err) {
        if (statusOf(err) === 412) return false;
        throw err;
      }
      pos += chunk.length;
    }
    return true;
  }

  /** The stored text of one attempt from a byte offset, at most `maxBytes` of it (for the API and follow). */
  async read(jobId: string, attempt: number, offset = 0, maxBytes = Number.MAX_SAFE_INTEGER): Promise<{ text: string; size: number }> {
    await this.#ensure();
    const blob = this.container.getAppendBlobClient(logBlobName(jobId, attempt));
    try {
      const props = await blob.getProperties();
      const size = props.contentLength ?? 0;
      if (offset >= size) return { text: "", size };
      return { text: (await blob.downloadToBuffer(offset, Math.min(size - offset, maxBytes))).toString("utf8"), size };
    } catch (err) {
      if (isNotFound(err)) return { text: "", size: 0 };
      throw err;
    }
  }
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
