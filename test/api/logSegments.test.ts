/**
 * An append blob takes at most 50,000 blocks, one per append; a long, chatty job reaches
 * that in days. The log store rolls over to a new segment before the limit, and readers
 * still see one stream. Tested at a limit of 3 blocks, against Azurite.
 */
import { randomBytes } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { describe, expect, inject, it } from "vitest";
import { BlobLogStore, logBlobName } from "../../src/store/logStore.js";
import { newLinesSince, parseTimestamped } from "../../src/logCursor.js";

const ts = (s: number) => `2026-11-27T06:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}.000000000Z`;

describe("a log past an append blob's block limit", () => {
  it("rolls over to new segments and still reads, tails and appends as one stream", async () => {
    const container = BlobServiceClient.fromConnectionString(inject("storageConnectionString")).getContainerClient(`seg${randomBytes(4).toString("hex")}`);
    const store = new BlobLogStore(container, 3);
    const id = `jseg${randomBytes(4).toString("hex")}`;
    const all: string[] = [];
    // Ten captures, as ten monitor polls would append them: each is one block.
    for (let poll = 0; poll < 10; poll++) {
      const tail = await store.tail(id, 1);
      const window = parseTimestamped(Array.from({ length: 3 }, (_, i) => `${ts(poll * 3 + i)} line ${poll * 3 + i}`).join("\n") + "\n", false);
      const { lines } = newLinesSince(window, tail.cursor);
      const text = lines.map((l) => `${l.ts} ${l.text}\n`);
      expect(await store.append(id, 1, text, tail.size)).toBe(true);
      all.push(...text);
      // A second poll appending at the old size loses the race, as it must.
      expect(await store.append(id, 1, text, tail.size)).toBe(false);
    }
    const names: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: `jobs/${id}/` })) names.push(b.name);
    expect(names.sort()).toEqual([0, 1, 2, 3].map((s) => logBlobName(id, 1, s)).sort());

    const whole = await store.read(id, 1);
    expect(whole.text).toBe(all.join(""));
    expect(whole.size).toBe(Buffer.byteLength(all.join("")));
    // Reads from any offset, across segment boundaries, give the rest of the stream.
    const offset = Buffer.byteLength(all.slice(0, 8).join(""));
    expect((await store.read(id, 1, offset, Buffer.byteLength(all.slice(8, 14).join("")))).text).toBe(all.slice(8, 14).join(""));
    // The cursor is the last line, whichever segment holds it: a re-read window stores nothing twice.
    const tail = await store.tail(id, 1);
    const again = newLinesSince(parseTimestamped(all.slice(-3).join(""), false), tail.cursor);
    expect(again.lines).toEqual([]);
  });

  it("never stores a line twice or skips one when two instances append, each remembering the blobs as it last wrote them", async () => {
    const container = BlobServiceClient.fromConnectionString(inject("storageConnectionString")).getContainerClient(`seg${randomBytes(4).toString("hex")}`);
    const [mine, theirs] = [new BlobLogStore(container, 3), new BlobLogStore(container, 3)];
    const id = `jtwo${randomBytes(4).toString("hex")}`;
    const window = (upTo: number) => parseTimestamped(Array.from({ length: upTo }, (_, i) => `${ts(i)} line ${i}`).join("\n") + "\n", false);
    const capture = async (store: BlobLogStore, upTo: number) => {
      for (let i = 0; i < 5; i++) {
        const tail = await store.tail(id, 1);
        const { lines } = newLinesSince(window(upTo), tail.cursor);
        if (lines.length === 0 || (await store.append(id, 1, lines.map((l) => `${l.ts} ${l.text}\n`), tail.size))) return;
      }
      throw new Error("no append after 5 tries");
    };
    await capture(mine, 2);
    await capture(theirs, 4);
    // This instance remembers the log at 2 lines: its append is refused, and it reads the tail again.
    await capture(mine, 6);
    await capture(theirs, 7);
    await capture(mine, 8);
    expect((await mine.read(id, 1)).text).toBe(window(8).map((l) => `${l.ts} ${l.text}\n`).join(""));
  });
});
