import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueServiceClient } from "@azure/storage-queue";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { jobIdForMessage } from "../../src/scheduler/ids.js";
import { logBlobName } from "../../src/store/logStore.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("bad queue messages", () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ pools: { default: { maxConcurrency: 2, resourceGroup: `rg-bad-${Date.now()}` } } }); });
  afterAll(async () => { await stack?.stop(); });

  async function poisoned(texts: string[], timeoutMs = 50_000): Promise<string[]> {
    const poison = QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getQueueClient(`${stack.deps.config.names.jobsQueue}-poison`);
    return waitUntil(
      async () => (await poison.peekMessages({ numberOfMessages: 32 }).catch(() => ({ peekedMessageItems: [] }))).peekedMessageItems.map((m) => m.messageText),
      { what: `all ${texts.length} messages in the jobs poison queue`, until: (seen) => texts.every((t) => seen.includes(t)), timeoutMs, intervalMs: 200 },
    );
  }

  it("sends what cannot be read to the poison queue, as the host received it, and nothing else changes", { timeout: 90_000 }, async () => {
    const unreadable = [
      "this is not base64 at all!",                 // wrong encoding
      b64("[]"),                                     // an empty array
      b64("\"just a string\""),                      // not an object
      b64("image: [unclosed"),                       // malformed YAML
      b64(JSON.stringify(Array.from({ length: 101 }, () => ({ image: "alpine" })))), // over 100 specs
      b64(JSON.stringify({ specBlob: "../../secrets" })), // a hostile blob reference
      b64(JSON.stringify({ specBlob: "missing.json" })),  // a reference to nothing
    ];
    for (const t of unreadable) await stack.enqueueRaw(t);
    const seen = await poisoned(unreadable);
    for (const t of unreadable) expect(seen, `poisoned: ${Buffer.from(t, "base64").toString().slice(0, 40)}`).toContain(t);
    // What no retry can make readable is moved on its first try, with one line and no stack trace.
    const log = stack.hosts.map((h) => h.output()).join("\n");
    expect(log.match(/unreadable message, moved to the poison queue.*must be valid YAML/g)).toHaveLength(1);
    expect(log).not.toMatch(/unreadable message \(try 2 of 5\).*must be valid YAML/);
    expect(log).not.toMatch(/^\s+at specsFromMessage/m);
    const jobs = (await stack.deps.jobs.list({}, 100)).jobs;
    expect(jobs).toEqual([]);
    const queue = QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getQueueClient(stack.deps.config.names.jobsQueue);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it("turns readable but invalid specs into Rejected jobs, including deeply nested and huge values", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 2000; i++) deep = { deep };
    const bodies = [
      {},
      { image: "alpine", command: "not an array" },
      { image: "alpine", env: deep },
      { image: "alpine", cpu: 1e308, memoryGb: -1, retries: 1.5 },
      { image: "alpine", name: "x".repeat(10_000) },
      { image: "alpine", labels: { "../../etc/passwd": "x" } },
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const r = await QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getQueueClient(stack.deps.config.names.jobsQueue).sendMessage(b64(JSON.stringify(body)));
      ids.push(jobIdForMessage(r.messageId, r.insertedOn));
    }
    const jobs = await stack.waitForAll(ids, 30_000);
    for (const j of jobs) {
      expect(j.state).toBe("Rejected");
      expect(j.errors?.length).toBeGreaterThan(0);
      for (const e of j.errors!) expect(e.field.length).toBeGreaterThan(0);
    }
    expect(stack.emulator.stats().counts.creates).toBe(0);
  });
});

describe("log blob paths", () => {
  it("are built from Burst's own ids only and refuse anything else", () => {
    expect(logBlobName("jabc123", 2)).toBe("jobs/jabc123/attempt-2.log");
    for (const hostile of ["../x", "a/b", "", "J", "x".repeat(100), "%2e%2e", "a\u0000b"]) expect(() => logBlobName(hostile, 1)).toThrow();
    expect(() => logBlobName("jabc", 0)).toThrow();
  });
});
