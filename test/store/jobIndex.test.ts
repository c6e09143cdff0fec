/**
 * The job index against real Table storage (Azurite): a job's listing rows are rewritten
 * only when its folded state changes (the second-long states fold into their neighbours),
 * and a listing by any state, folded or not, still finds exactly the jobs in it.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { TableJobStore, indexedState } from "../../src/store/jobStore.js";
import { tableClient } from "../../src/store/tables.js";
import type { JobRecord, JobState } from "../../src/model.js";

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

describe("the job index", () => {
  it("rewrites a job's listing rows only when its folded state changes, and lists every state exactly", async () => {
    const connection = inject("storageConnectionString");
    const index = tableClient(connection, unique("jobindex"));
    const jobs = new TableJobStore(tableClient(connection, unique("jobs")), index, () => {});
    const createdAt = new Date().toISOString();
    const record = (id: string, state: JobState): JobRecord =>
      ({
        id,
        pool: "p",
        priority: 0,
        labels: {},
        state,
        createdAt,
        updatedAt: createdAt,
        attempts: [],
        platformFailures: 0,
        ownFailures: 0,
        monitorSeq: 0,
        log: { lines: 0, bytes: 0 },
        costUsd: 0,
      }) as JobRecord;
    const rowsOf = async (id: string) => {
      const out: { rowKey?: string; state: string; etag: string }[] = [];
      for await (const e of index.listEntities<{ state: string }>({ queryOptions: { filter: `jobId eq '${id}'` } })) out.push(e);
      return out.sort((a, b) => a.rowKey!.localeCompare(b.rowKey!));
    };
    const moving = `jmove${randomBytes(4).toString("hex")}`;
    const still = `jstill${randomBytes(4).toString("hex")}`;
    await jobs.create(record(still, "Waiting"));
    let etag = (await jobs.create(record(moving, "Waiting")))!;
    const created = await rowsOf(moving);
    expect(created.map((r) => r.state)).toEqual(["Waiting", "Waiting"]);

    const path: JobState[] = ["Admitted", "Launching", "Running", "Finishing", "Succeeded"];
    let before = record(moving, "Waiting");
    let rows = created;
    for (const state of path) {
      const next = { ...before, state };
      etag = await jobs.replace(next, etag, before);
      const now = await rowsOf(moving);
      // Rewritten (new ETags) exactly when the folded state changed.
      const rewritten = now.some((r, i) => r.etag !== rows[i]?.etag);
      expect({ state, rewritten }).toEqual({ state, rewritten: indexedState(state) !== indexedState(before.state) });
      expect(now.filter((r) => r.rowKey !== undefined && /^\d/.test(r.rowKey)).every((r) => r.state === indexedState(state))).toBe(true);
      // A listing by the job's real state finds it, and not the job that still waits.
      const listed = await jobs.list({ state }, 50);
      expect(listed.jobs.map((j) => j.id)).toEqual([moving]);
      before = next;
      rows = now;
    }
    expect((await jobs.list({ state: "Waiting" }, 50)).jobs.map((j) => j.id)).toEqual([still]);
    expect((await jobs.list({ state: "Admitted" }, 50)).jobs).toEqual([]);
  });
});
