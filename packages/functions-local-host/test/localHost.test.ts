import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import { FIXTURE_APP, startHostProcess, uniqueName, type HostProcess } from "./support.js";

const appDir = FIXTURE_APP;
const KEY = "fixture-key";
const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Trace { fn: string; message?: unknown; dequeueCount?: number; id?: string; insertionTime?: string; popReceipt?: string; pid: number }

/** Reads trace records until `until` is satisfied or the time runs out. */
async function collect(queue: QueueClient, until: (all: Trace[]) => boolean, timeoutMs = 20_000): Promise<Trace[]> {
  const all: Trace[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await queue.receiveMessages({ numberOfMessages: 32 });
    for (const m of got.receivedMessageItems) {
      all.push(JSON.parse(m.messageText) as Trace);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
    if (until(all)) return all;
    if (got.receivedMessageItems.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  return all;
}

describe("the local Functions host", () => {
  const service = QueueServiceClient.fromConnectionString(inject("storageConnectionString"));
  const names = { work: uniqueName("work"), results: uniqueName("results"), trace: uniqueName("trace") };
  const work = service.getQueueClient(names.work);
  const poison = service.getQueueClient(`${names.work}-poison`);
  const results = service.getQueueClient(names.results);
  const trace = service.getQueueClient(names.trace);
  let host: HostProcess;

  beforeAll(async () => {
    await Promise.all([work, results, trace].map((q) => q.createIfNotExists()));
    host = await startHostProcess({
      appDir,
      env: {
        AzureWebJobsStorage: inject("storageConnectionString"),
        WORK_QUEUE: names.work, RESULTS_QUEUE: names.results, TRACE_QUEUE: names.trace,
        TICK_SCHEDULE: "*/1 * * * * *",
        BURST_API_KEY: KEY,
        BURST_HOST_ID: uniqueName("host"),
      },
    });
  });

  afterAll(async () => {
    await host?.stop();
    await Promise.all([work, poison, results, trace].map((q) => q.deleteIfExists()));
  });

  it("invokes a storageQueue function with the decoded base64 message and its trigger metadata", async () => {
    const sent = await work.sendMessage(b64(JSON.stringify({ hello: "world" })));
    const seen = await collect(trace, (all) => all.some((t) => t.fn === "work" && t.id === sent.messageId));
    const t = seen.find((x) => x.fn === "work" && x.id === sent.messageId)!;
    expect(t.message).toEqual({ hello: "world" });
    expect(t.dequeueCount).toBe(1);
    expect(new Date(t.insertionTime!).getTime()).toBeGreaterThan(0);
    expect(t.popReceipt).toBe("string");
  });

  it("retries a failing message and moves it to the poison queue at maxDequeueCount", async () => {
    const body = b64(JSON.stringify({ fail: true, tag: "poison-me" }));
    const sent = await work.sendMessage(body);
    const seen = await collect(trace, (all) => all.filter((t) => t.id === sent.messageId).length >= 3);
    expect(seen.filter((t) => t.id === sent.messageId).map((t) => t.dequeueCount)).toEqual([1, 2, 3]);
    let poisoned: string[] = [];
    for (let i = 0; i < 50 && poisoned.length === 0; i++) {
      poisoned = (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
      if (poisoned.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(poisoned).toContain(body);
    // The original is gone from the work queue.
    expect((await work.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageId)).not.toContain(sent.messageId);
  });

  it("moves a message that is not valid base64 straight to the poison queue without invoking", async () => {
    const sent = await work.sendMessage("this is {not} base64!");
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      found = (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.some((m) => m.messageText === "this is {not} base64!");
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toBe(true);
    const seen = await collect(trace, () => false, 500);
    expect(seen.some((t) => t.id === sent.messageId)).toBe(false);
  });

  it("writes queue output bindings base64-encoded", async () => {
    await work.sendMessage(b64(JSON.stringify({ forward: { n: 42 } })));
    let text: string | undefined;
    for (let i = 0; i < 100 && !text; i++) {
      text = (await results.receiveMessages()).receivedMessageItems[0]?.messageText;
      if (!text) await new Promise((r) => setTimeout(r, 100));
    }
    expect(JSON.parse(Buffer.from(text!, "base64").toString("utf8"))).toEqual({ n: 42 });
  });

  it("answers an HTTP function under api/ with its route parameters when the key is given", async () => {
    const byHeader = await fetch(`${host.url}/api/echo/alice/extra?q=1`, { headers: { "x-functions-key": KEY } });
    expect(byHeader.status).toBe(200);
    expect(await byHeader.json()).toEqual({ name: "alice", rest: "extra", q: "1", body: "", method: "GET" });
    const byCode = await fetch(`${host.url}/api/echo/bob?code=${KEY}`, { method: "POST", body: "payload" });
    expect(byCode.status).toBe(200);
    expect(await byCode.json()).toMatchObject({ name: "bob", rest: null, body: "payload", method: "POST" });
  });

  it("rejects an HTTP function call without a valid key with 401", async () => {
    expect((await fetch(`${host.url}/api/echo/alice`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/echo/alice`, { headers: { "x-functions-key": "wrong" } })).status).toBe(401);
  });

  it("serves anonymous routes, custom status and headers, and 404 for unknown routes and methods", async () => {
    const open = await fetch(`${host.url}/api/open`);
    expect(open.status).toBe(203);
    expect(open.headers.get("x-fixture")).toBe("yes");
    expect(await open.text()).toBe("anonymous ok");
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${host.url}/open`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/open`, { method: "DELETE" })).status).toBe(404);
  });

  it("answers 500 when an HTTP function throws", async () => {
    expect((await fetch(`${host.url}/api/boom`)).status).toBe(500);
  });

  it("delivers an HTTP function's queue output to the queue trigger", async () => {
    const res = await fetch(`${host.url}/api/enqueue`, { method: "POST", headers: { "x-functions-key": KEY }, body: JSON.stringify({ via: "http" }) });
    expect(res.status).toBe(202);
    const seen = await collect(trace, (all) => all.some((t) => t.fn === "work" && (t.message as { via?: string })?.via === "http"));
    expect(seen.some((t) => t.fn === "work" && (t.message as { via?: string })?.via === "http")).toBe(true);
  });

  it("fires a timer on startup and then on its NCRONTAB schedule", async () => {
    const ticks = await collect(trace, (all) => all.filter((t) => t.fn === "tick").length >= 3, 15_000);
    expect(ticks.filter((t) => t.fn === "tick").length).toBeGreaterThanOrEqual(3);
  });
});

describe("the local Functions host under load and scale-out", () => {
  const service = QueueServiceClient.fromConnectionString(inject("storageConnectionString"));
  const names = { work: uniqueName("work"), results: uniqueName("results"), trace: uniqueName("trace") };
  const work = service.getQueueClient(names.work);
  const trace = service.getQueueClient(names.trace);
  const hostId = uniqueName("host");
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    await Promise.all([work, trace].map((q) => q.createIfNotExists()));
    const env = {
      AzureWebJobsStorage: inject("storageConnectionString"),
      WORK_QUEUE: names.work, RESULTS_QUEUE: names.results, TRACE_QUEUE: names.trace,
      TICK_SCHEDULE: "*/1 * * * * *", BURST_API_KEY: KEY, BURST_HOST_ID: hostId,
    };
    hosts.push(await startHostProcess({ appDir, env }), await startHostProcess({ appDir, env }));
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await Promise.all([work, trace, service.getQueueClient(names.results)].map((q) => q.deleteIfExists()));
  });

  it("runs at most batchSize + newBatchThreshold messages at once per host, and shares work across hosts", async () => {
    const n = 30;
    await Promise.all(Array.from({ length: n }, (_, i) => work.sendMessage(b64(JSON.stringify({ sleepMs: 800, i })))));
    const seen = await collect(trace, (all) => all.filter((t) => t.fn === "work-done").length >= n, 30_000);
    const starts = seen.filter((t) => t.fn === "work");
    const done = new Map(seen.filter((t) => t.fn === "work-done").map((t) => [t.id, t as Trace & { at: number }]));
    expect(done.size).toBe(n);
    for (const pid of new Set(starts.map((s) => s.pid))) {
      const events: [number, number][] = [];
      for (const s of starts.filter((x) => x.pid === pid) as (Trace & { at: number })[]) {
        events.push([s.at, +1], [done.get(s.id)!.at, -1]);
      }
      events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let live = 0, peak = 0;
      for (const [, d] of events) { live += d; peak = Math.max(peak, live); }
      // batchSize 4 + newBatchThreshold 2 in the fixture's host.json.
      expect(peak).toBeLessThanOrEqual(6);
    }
    expect(new Set(starts.map((s) => s.pid)).size).toBe(2);
  });

  it("fires a timer on one instance only when two hosts share a host id", async () => {
    const ticks = (await collect(trace, (all) => all.filter((t) => t.fn === "tick").length >= 4, 15_000)).filter((t) => t.fn === "tick");
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    expect(new Set(ticks.map((t) => t.pid)).size).toBe(1);
  });
});
