/**
 * No pool is ever wedged. A job too large to store is refused at submission; and a job
 * whose step keeps failing for a reason that will not pass (here: its record can no
 * longer be written) is ended on the step's last try, its group deleted and its slot
 * freed, instead of holding the pool for good while its messages pile up as poison.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableClient, MAX_DOC_CHARS } from "../../src/store/tables.js";
import { startApiStack, type Api } from "../api/apiClient.js";
import type { Stack } from "../support/harness.js";

describe("a pool is never wedged", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({ pools: { default: { maxConcurrency: 1, resourceGroup: `rg-wedge-${Date.now()}` } } }));
  });
  afterAll(async () => { await stack?.stop(); });

  it("refuses a spec too large to keep in a job record, naming its size and the limit, over HTTP and on the queue", async () => {
    const big = { image: "alpine", command: ["sh", "-c", "true"], env: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`V${i}`, "x".repeat(30_000)])), timeoutSeconds: 60 };
    const r = await api.post("/api/jobs", big);
    expect(r.status).toBe(400);
    expect(r.json.error.details[0]).toEqual({ field: "(spec)", rule: expect.stringMatching(/^is 600,\d{3} characters as stored; the limit is 256,000 /) });
    // On the queue, a spec this large travels as a blob (queue messages hold 64 KB).
    const specs = BlobServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getContainerClient(stack.deps.config.names.specsContainer);
    await specs.createIfNotExists();
    const text = JSON.stringify({ ...big, env: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`V${i}`, "y".repeat(30_000)])) });
    await specs.getBlockBlobClient("too-large.json").upload(text, text.length);
    const id = await stack.enqueue({ specBlob: "too-large.json" });
    const rejected = await stack.waitFor(id);
    expect(rejected.state).toBe("Rejected");
    expect(rejected.errors?.[0]?.rule).toMatch(/the limit is 256,000/);
  });

  it("ends a job whose record can no longer be written, deletes its group, and runs the job behind it", async () => {
    const stuck = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 600"], timeoutSeconds: 900 });
    const running = await stack.waitFor(stuck, (j) => j.state === "Running");
    const victim = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo victim"], timeoutSeconds: 60 });
    await stack.waitFor(victim, (j) => j.state === "Waiting");

    // The record as earlier versions could leave it: just over what Table storage keeps, so every write fails.
    const table = tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.jobsTable);
    const e = await table.getEntity<Record<string, unknown>>(stuck, "job");
    const base = JSON.stringify({ ...running, name: "" }).length;
    const inflated = JSON.stringify({ ...running, name: "n".repeat(MAX_DOC_CHARS + 10 - base) });
    const chunks: Record<string, string> = {};
    for (let i = 0, n = 0; i < inflated.length; i += 30_000, n++) chunks[`doc${n}`] = inflated.slice(i, i + 30_000);
    await table.updateEntity({ partitionKey: stuck, rowKey: "job", state: e.state, pool: e.pool, createdAt: e.createdAt, labels: e.labels, ...chunks }, "Replace", { etag: e.etag });
    expect(inflated.length).toBeGreaterThan(MAX_DOC_CHARS);

    const ended = await stack.waitFor(stuck, undefined, 90_000);
    expect(ended.state).toBe("Failed");
    expect(ended.reason).toMatch(/^Burst's monitor step failed 5 times in a row \(the record is \d+ characters; Table storage holds at most 480000\); the job was ended/);
    expect(ended.reason).toContain("its command and environment were dropped");
    const group = stack.emulator.stats().billing.find((b) => b.name === running.attempts[0]!.group)!;
    expect(group.deleted).toBe(true);
    expect((await stack.waitFor(victim, undefined, 60_000)).state).toBe("Succeeded");
    const snap = await stack.deps.ledger.snapshot("default", new Date());
    expect(Object.keys(snap.holders)).toEqual([]);
  });
});
