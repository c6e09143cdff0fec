/**
 * Job records against real Table storage (Azurite): a change starts from the version this
 * process last wrote instead of reading it again, and still never overwrites or misses
 * what another instance wrote meanwhile.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { TableJobStore, mutateJob } from "../../src/store/jobStore.js";
import { tableClient } from "../../src/store/tables.js";
import type { JobRecord } from "../../src/model.js";

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

describe("job records", () => {
  it("changes a job it wrote last without reading it again, and catches another instance's change by its ETag", async () => {
    const connection = inject("storageConnectionString");
    const [jobsName, indexName] = [unique("jobs"), unique("jobindex")];
    const table = tableClient(connection, jobsName);
    const mine = new TableJobStore(table, tableClient(connection, indexName), () => {});
    const theirs = new TableJobStore(tableClient(connection, jobsName), tableClient(connection, indexName), () => {});
    const id = `jrecent${randomBytes(4).toString("hex")}`;
    const at = new Date().toISOString();
    await mine.create({
      id,
      pool: "p",
      priority: 0,
      labels: {},
      state: "Waiting",
      createdAt: at,
      updatedAt: at,
      attempts: [],
      platformFailures: 0,
      ownFailures: 0,
      monitorSeq: 0,
      log: { lines: 0, bytes: 0 },
      costUsd: 0,
    } as JobRecord);
    const reads = vi.spyOn(table, "getEntity");
    const bump = (j: JobRecord) => ({ ...j, monitorSeq: j.monitorSeq + 1 });
    await mutateJob(mine, id, bump);
    await mutateJob(mine, id, bump);
    expect(reads).not.toHaveBeenCalled();

    // Another instance writes: this one's remembered version is refused by the ETag, and the change runs again on a fresh read.
    await mutateJob(theirs, id, (j) => ({ ...j, reason: "theirs" }));
    await mutateJob(mine, id, bump);
    expect((await theirs.get(id))!.value).toMatchObject({ monitorSeq: 3, reason: "theirs" });

    // A "nothing to do" decided on a remembered version is decided again on the stored one.
    await mutateJob(theirs, id, (j) => ({ ...j, cancelRequested: true }));
    const r = await mutateJob(mine, id, (j) => (j.cancelRequested ? { ...j, reason: "seen the cancel" } : undefined));
    expect(r).toMatchObject({ changed: true, after: { reason: "seen the cancel" } });
    reads.mockRestore();
  });
});
