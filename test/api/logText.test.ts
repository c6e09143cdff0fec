import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import type { Deps } from "../../src/scheduler/deps.js";
import type { JobRecord } from "../../src/model.js";
import { readLogChunk } from "../../src/api/logText.js";
import { quietLog } from "../support/harness.js";

const ts = (s: number) => `2026-11-27T06:00:${String(s).padStart(2, "0")}.000000000Z`;

function record(id: string, patch: Partial<JobRecord>): JobRecord {
  return {
    id, pool: "default", priority: 0, labels: {}, state: "Running", createdAt: ts(0), updatedAt: ts(0),
    attempts: [], platformFailures: 0, ownFailures: 0, monitorSeq: 0, log: { lines: 0, bytes: 0 }, costUsd: 0, ...patch,
  };
}

/** Reads the whole stream from 0 in pieces of at most `maxBytes`, as a client paging with the offsets would. */
async function readAll(deps: Deps, job: JobRecord, opts: { attempt?: number; timestamps: boolean; maxBytes: number }) {
  let offset = 0;
  let text = "";
  const pieces: string[] = [];
  for (let i = 0; i < 100; i++) {
    const c = await readLogChunk(deps, job, { ...opts, offset });
    text += c.text;
    pieces.push(c.text);
    offset = c.nextOffset;
    if (!c.more) return { text, pieces, last: c };
  }
  throw new Error("did not reach the end");
}

describe("a job's log as one stream with stable offsets", () => {
  let deps: Deps;
  const id = `jlog${randomBytes(5).toString("hex")}`;
  beforeAll(async () => {
    deps = buildDeps(loadConfig({ AzureWebJobsStorage: inject("storageConnectionString"), BURST_STORAGE_PREFIX: `l${randomBytes(4).toString("hex")}` }), quietLog);
    await deps.logs.append(id, 1, [`${ts(1)} alpha\n`, `${ts(2)} beta\n`], 0);
    const first = (await deps.logs.read(id, 2)).size;
    await deps.logs.append(id, 2, [`${ts(3)} gamma\n`, `${ts(4)} delta è\n`, `${ts(5)} epsilon\n`], first);
  });

  it("joins attempts with separator lines and pages through them on whole lines, whatever the piece size", async () => {
    const job = record(id, { state: "Failed", attempts: [{ n: 1, group: "g1", outcome: "Failed" }, { n: 2, group: "g2", outcome: "Failed" }] });
    const expected = "alpha\nbeta\n--- attempt 2 ---\ngamma\ndelta è\nepsilon\n";
    for (const maxBytes of [40, 45, 64, 1000]) {
      const r = await readAll(deps, job, { timestamps: false, maxBytes });
      expect(r.text, `pieces of ${maxBytes}`).toBe(expected);
      expect(r.last.complete).toBe(true);
      // Log pieces end on a line (the separator is its own line too).
      for (const p of r.pieces) if (p) expect(p.endsWith("\n")).toBe(true);
    }
    const stamped = await readAll(deps, job, { timestamps: true, maxBytes: 50 });
    expect(stamped.text).toBe(`${ts(1)} alpha\n${ts(2)} beta\n--- attempt 2 ---\n${ts(3)} gamma\n${ts(4)} delta è\n${ts(5)} epsilon\n`);
    const second = await readAll(deps, job, { attempt: 2, timestamps: false, maxBytes: 1000 });
    expect(second.text).toBe("gamma\ndelta è\nepsilon\n");
  });

  it("never says complete while the job (or the asked attempt) can still add output", async () => {
    const running = record(id, { state: "Running", attempts: [{ n: 1, group: "g1", outcome: "Failed" }, { n: 2, group: "g2" }] });
    const all = await readLogChunk(deps, running, { offset: 0, timestamps: false });
    expect(all).toMatchObject({ more: false, complete: false, ended: false, state: "Running" });
    const end = await readLogChunk(deps, running, { offset: all.nextOffset, timestamps: false });
    expect(end).toMatchObject({ text: "", nextOffset: all.nextOffset, complete: false });
    // Attempt 1 has an outcome, so its log is final even while the job goes on.
    const first = await readLogChunk(deps, running, { attempt: 1, offset: 0, timestamps: false });
    expect(first).toMatchObject({ text: "alpha\nbeta\n", complete: true });
    const waiting = record(`${id}x`, { state: "Waiting" });
    expect(await readLogChunk(deps, waiting, { offset: 0, timestamps: false })).toMatchObject({ text: "", nextOffset: 0, complete: false });
    const canceled = record(`${id}y`, { state: "Canceled" });
    expect(await readLogChunk(deps, canceled, { offset: 0, timestamps: false })).toMatchObject({ text: "", complete: true, ended: true });
  });
});
