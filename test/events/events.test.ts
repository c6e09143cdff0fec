import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac, timingSafeEqual } from "node:crypto";
import { QueueServiceClient } from "@azure/storage-queue";
import { buildDeps } from "../../src/composition.js";
import { submitJob } from "../../src/scheduler/submit.js";
import { poll, pump } from "../../src/scheduler/flow.js";
import { finishJob } from "../../src/scheduler/finish.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { deliverEvent, readEventMessage } from "../../src/events/deliver.js";
import { eventId, type CloudEvent } from "../../src/events/cloudEvent.js";
import { eventSource } from "../../src/events/emit.js";
import { sendBudgetEvents, sendPoolBlocked, type BudgetThresholdData } from "../../src/events/poolEvents.js";
import type { JobRecord } from "../../src/model.js";
import type { Deps } from "../../src/scheduler/deps.js";
import type { JobStore } from "../../src/store/jobStore.js";
import { quietLog, startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { startEventGridTopic } from "../support/eventGridTopic.js";

const SECRET = "a-webhook-secret-of-some-length";
/** A job that succeeds at once. */
const HI = { image: "alpine", command: ["echo", "hi"], timeoutSeconds: 60 };

/** A webhook receiver on a free port: keeps every request's raw body and headers; answers `status()`. */
async function receiver(status: () => number = () => 204) {
  const got: { body: string; headers: IncomingMessage["headers"] }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise((r) => server.close(r)) };
}

/** How a receiver checks the signature, as GitHub documents for X-Hub-Signature-256. */
function validSignature(body: string, header: string | string[] | undefined, secret: string): boolean {
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(String(header ?? ""));
  return want.length === given.length && timingSafeEqual(want, given);
}

describe("completion events", () => {
  let stack: Stack;
  let deps: Deps;
  let queues: QueueServiceClient;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    stack = await startStack({
      hosts: 0,
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-events-${Date.now()}` },
        // Room for one group at a time: a second job's launch waits for capacity.
        tight: {
          maxConcurrency: 5,
          placements: [
            {
              subscriptionId: "00000000-0000-0000-0000-0000000000e1",
              resourceGroup: `rg-events-tight-${Date.now()}`,
              region: "eastus",
              limits: { groups: 1 },
            },
          ],
          events: { types: ["pool.blocked"], queue: { name: "tight-pool-events" } },
        },
      },
    });
    deps = buildDeps(stack.deps.config, quietLog);
    queues = QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!);
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
    await queues
      .getQueueClient(deps.config.names.eventsQueue)
      .clearMessages()
      .catch(() => undefined);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** A receiver closed after the test. */
  async function hookFor(status?: () => number) {
    const hook = await receiver(status);
    closers.push(hook.close);
    return hook;
  }

  async function runToEnd(d: Deps, id: string): Promise<JobRecord> {
    for (let i = 0; i < 300; i++) {
      const job = (await d.jobs.get(id))!.value;
      if (["Succeeded", "Failed", "Canceled", "TimedOut"].includes(job.state)) return job;
      if (job.state === "Running") await poll(d, { jobId: id, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq });
      // A retry waits out its backoff in the line; no host takes the pool's delayed pump message here.
      if (job.state === "Waiting" && job.attempts.length > 0) await pump(d, job.pool);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} did not end`);
  }

  /** Takes every message off the events queue (delayed ones included once due), as the deliverEvents function would. */
  async function drainEvents(options: Parameters<typeof deliverEvent>[3] = { backoffSeconds: () => 0 }, d: Deps = deps): Promise<string[]> {
    const q = queues.getQueueClient(deps.config.names.eventsQueue);
    const results: string[] = [];
    for (;;) {
      const { receivedMessageItems: batch } = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
      if (batch.length === 0) return results;
      for (const m of batch) {
        const msg = readEventMessage(JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
        results.push(await deliverEvent(d, queues, msg, options));
        await q.deleteMessage(m.messageId, m.popReceipt);
      }
    }
  }

  it("posts job.ended to a webhook as a CloudEvent, signed with the job's secret, which is never stored in clear", async () => {
    const hook = await hookFor();
    const { job } = await submitJob(deps, {
      ...HI,
      labels: { team: "a" },
      events: { types: ["job.ended"], webhook: { url: hook.url, secret: SECRET } },
    });
    const ended = await runToEnd(deps, job.id);
    expect(ended.state).toBe("Succeeded");
    expect(await drainEvents()).toEqual(["delivered"]);

    expect(hook.got).toHaveLength(1);
    const { body, headers } = hook.got[0]!;
    expect(validSignature(body, headers["x-hub-signature-256"], SECRET)).toBe(true);
    expect(validSignature(body, headers["x-hub-signature-256"], "another-secret-entirely")).toBe(false);
    expect(headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
    const event = JSON.parse(body);
    expect(event).toMatchObject({
      specversion: "1.0",
      id: eventId(job.id, 1, "job.ended"),
      type: "com.burst.job.ended",
      subject: `jobs/${job.id}`,
      datacontenttype: "application/json",
      source: `/burst/${deps.config.deploymentId}/pools/default`,
      data: { jobId: job.id, pool: "default", state: "Succeeded", attempt: 1, exitCode: 0, costUsd: ended.costUsd, labels: { team: "a" } },
    });
    expect(headers["x-burst-event-id"]).toBe(event.id);
    expect(Date.parse(event.time)).not.toBeNaN();
    // The record keeps the URL and the sealed secret only.
    const stored = JSON.stringify((await deps.jobs.get(job.id))!.value);
    expect(stored).not.toContain(SECRET);
    expect(ended.spec?.events?.webhook).toEqual({ url: hook.url });
    expect(ended.sealedEventSecret).toMatch(/^v2\./);
  });

  it("tells of each failed attempt, then of the end, and a Storage queue sink gets the same events", async () => {
    const hook = await hookFor();
    const sink = `ev-sink-${Date.now()}`;
    const { job } = await submitJob(deps, {
      image: "alpine",
      command: ["sh", "-c", "exit 3"],
      retries: 1,
      timeoutSeconds: 60,
      events: { webhook: { url: hook.url }, queue: { name: sink } },
    });
    // The retry waits its backoff (5-6 s) in the line; the pump hands it on when due.
    const ended = await runToEnd(deps, job.id);
    expect(ended.state).toBe("Failed");
    await drainEvents();

    const types = hook.got.map((g) => JSON.parse(g.body)).map((e) => `${e.type} ${e.data.attempt} ${e.data.state} ${e.data.exitCode}`);
    expect(types.sort()).toEqual([
      "com.burst.attempt.failed 1 Waiting 3",
      "com.burst.attempt.failed 2 Failed 3",
      "com.burst.job.ended 2 Failed 3",
    ]);
    // Unsigned when no secret was given.
    expect(hook.got.every((g) => g.headers["x-hub-signature-256"] === undefined)).toBe(true);

    const { receivedMessageItems } = await queues.getQueueClient(sink).receiveMessages({ numberOfMessages: 32 });
    const queued = receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
    expect(queued.map((e) => e.id).sort()).toEqual(hook.got.map((g) => JSON.parse(g.body).id).sort());
    await queues.getQueueClient(sink).delete();
  });

  it("retries a webhook that fails, then dead-letters the event where burst poison shows it, and a redrive delivers it", async () => {
    let status = 500;
    const hook = await receiver(() => status);
    closers.push(hook.close);
    const { job } = await submitJob(deps, {
      ...HI,
      events: { types: ["job.ended"], webhook: { url: hook.url, secret: SECRET } },
    });
    await runToEnd(deps, job.id);

    expect(await drainEvents({ tries: 3, backoffSeconds: () => 0 })).toEqual(["retrying", "retrying", "dead-lettered"]);
    expect(hook.got).toHaveLength(3);
    expect(new Set(hook.got.map((g) => JSON.parse(g.body).id))).toEqual(new Set([eventId(job.id, 1, "job.ended")]));
    const parked = (await deps.poison.peek("events")).filter((m) => m.text.includes(job.id));
    expect(parked).toHaveLength(1);
    expect(JSON.parse(parked[0]!.text)).toMatchObject({
      jobId: job.id,
      sink: "webhook",
      try: 1,
      lastError: "the webhook answered HTTP 500",
    });
    expect(parked[0]!.text).not.toContain(SECRET);

    status = 200;
    expect((await deps.poison.redrive("events", [parked[0]!.id])).done).toEqual([parked[0]!.id]);
    expect(await drainEvents()).toEqual(["delivered"]);
    expect(hook.got).toHaveLength(4);
    expect(validSignature(hook.got[3]!.body, hook.got[3]!.headers["x-hub-signature-256"], SECRET)).toBe(true);
  });

  it("publishes job.ended to an Event Grid topic with its key, kept sealed; a topic that refuses the key gets retries, then a dead letter", async () => {
    const KEY = "an-event-grid-topic-access-key";
    const topic = await startEventGridTopic(KEY);
    closers.push(topic.close);
    const good = (await submitJob(deps, { ...HI, events: { types: ["job.ended"], eventGrid: { endpoint: topic.endpoint, key: KEY } } }))
      .job;
    const bad = (
      await submitJob(deps, { ...HI, events: { types: ["job.ended"], eventGrid: { endpoint: topic.endpoint, key: "not-the-key" } } })
    ).job;
    const ended = await runToEnd(deps, good.id);
    await runToEnd(deps, bad.id);

    expect((await drainEvents({ tries: 2, backoffSeconds: () => 0 })).sort()).toEqual(["dead-lettered", "delivered", "retrying"]);
    expect(topic.statuses.sort()).toEqual([200, 401, 401]);
    expect(topic.events).toHaveLength(1);
    expect(topic.events[0]).toMatchObject({
      specversion: "1.0",
      id: eventId(good.id, 1, "job.ended"),
      type: "com.burst.job.ended",
      subject: `jobs/${good.id}`,
      source: `/burst/${deps.config.deploymentId}/pools/default`,
      data: { jobId: good.id, state: "Succeeded", exitCode: 0, costUsd: ended.costUsd },
    });
    const stored = JSON.stringify((await deps.jobs.get(good.id))!.value);
    expect(stored).not.toContain(KEY);
    expect(ended.spec?.events?.eventGrid).toEqual({ endpoint: topic.endpoint });

    const parked = (await deps.poison.peek("events")).filter((m) => m.text.includes(bad.id));
    expect(parked).toHaveLength(1);
    expect(JSON.parse(parked[0]!.text)).toMatchObject({ sink: "eventGrid", lastError: "the Event Grid topic answered HTTP 401" });
    expect(parked[0]!.text).not.toContain("not-the-key");
  });

  it("gives a job that asks for no events its pool's, signed with the secret from the app setting the pool names", async () => {
    const hook = await hookFor();
    const base = deps.config;
    const pool = {
      ...base.pools.get("default")!,
      events: { types: ["job.ended" as const], webhook: { url: hook.url, secretSetting: "BURST_EVENTS_SECRET" } },
    };
    const d = buildDeps(
      { ...base, pools: new Map(base.pools).set("default", pool), poolEventSecrets: new Map([["default", { secret: SECRET }]]) },
      quietLog,
    );
    const { job } = await submitJob(d, HI);
    const ended = await runToEnd(d, job.id);
    expect(await drainEvents(undefined, d)).toEqual(["delivered"]);

    expect(hook.got).toHaveLength(1);
    expect(JSON.parse(hook.got[0]!.body)).toMatchObject({ id: eventId(job.id, 1, "job.ended"), data: { state: "Succeeded" } });
    expect(validSignature(hook.got[0]!.body, hook.got[0]!.headers["x-hub-signature-256"], SECRET)).toBe(true);
    expect(ended.spec?.events).toEqual({ types: ["job.ended"], webhook: { url: hook.url } });
    expect(JSON.stringify((await d.jobs.get(job.id))!.value)).not.toContain(SECRET);
  });

  it("tells a pool that asks for budget.threshold of each threshold its windows reach, once each, however many instances settle at once", async () => {
    const hook = await hookFor();
    const base = deps.config;
    /** An instance whose pool has `budget` and asks for budget.threshold at the webhook. */
    const instance = (budget: { dailyUsd?: number; monthlyUsd?: number }) => {
      const pool = { ...base.pools.get("default")!, budget, events: { types: ["budget.threshold" as const], webhook: { url: hook.url } } };
      return { d: buildDeps({ ...base, pools: new Map(base.pools).set("default", pool) }, quietLog), pool };
    };
    const thresholds = () =>
      hook.got
        .map((g) => JSON.parse(g.body) as CloudEvent)
        .map((e) => `${(e.data as BudgetThresholdData).window}-${(e.data as BudgetThresholdData).threshold}`);

    // Admitted with no budget, settled by an instance whose daily limit the job's cost passes: every day threshold at once.
    const tiny = 1e-9;
    const { job } = await submitJob(deps, HI);
    const { d } = instance({ dailyUsd: tiny });
    await runToEnd(d, job.id);
    const snap = await deps.ledger.snapshot("default", new Date());
    expect(snap.spentDayUsd).toBeGreaterThan(tiny);
    // Delivered by an instance whose pool still names the webhook (the deliverer reads the pool's sinks).
    expect(await drainEvents(undefined, d)).toEqual(["delivered", "delivered", "delivered"]);
    expect(thresholds().sort()).toEqual(["day-100", "day-50", "day-80"]);
    const first = JSON.parse(hook.got[0]!.body) as CloudEvent;
    expect(first).toMatchObject({ type: "com.burst.budget.threshold", subject: "pools/default", source: eventSource(deps, "default") });
    expect(first.data).toMatchObject({ pool: "default", window: "day", windowKey: snap.day, limitUsd: tiny });

    // Eight instances at once, with a monthly limit the month's spend has reached: each month threshold once, no day one again.
    const eight = Array.from({ length: 8 }, () => instance({ dailyUsd: tiny, monthlyUsd: snap.spentMonthUsd }));
    await Promise.all(eight.map((i) => sendBudgetEvents(i.d, i.pool, new Date())));
    expect(await drainEvents(undefined, d)).toEqual(["delivered", "delivered", "delivered"]);
    expect(thresholds().sort()).toEqual(["day-100", "day-50", "day-80", "month-100", "month-50", "month-80"]);
    expect(new Set(hook.got.map((g) => JSON.parse(g.body).id)).size).toBe(6);
    const month = hook.got.map((g) => JSON.parse(g.body) as CloudEvent).find((e) => (e.data as BudgetThresholdData).window === "month")!;
    expect(month.data).toMatchObject({ windowKey: snap.month, spentUsd: snap.spentMonthUsd, limitUsd: snap.spentMonthUsd });

    // The pool names no job event type, so its jobs get no events (this one waits: the day's budget is spent).
    const { job: second } = await submitJob(d, HI);
    expect(second.spec?.events).toBeUndefined();
    expect(second.eventsFromPool).toBeUndefined();
    await cancelJob(d, second.id);
    expect(await drainEvents(undefined, d)).toEqual([]);
  });

  it("tells a pool that asks for pool.blocked that a launch found no room, at most once per ten minutes across instances", async () => {
    const hook = await hookFor();
    const base = deps.config;
    const pool = { ...base.pools.get("default")!, events: { types: ["pool.blocked" as const], webhook: { url: hook.url } } };
    const d = buildDeps({ ...base, pools: new Map(base.pools).set("default", pool) }, quietLog);
    const reason = "capacity: no placement has room (eastus: quota)";
    // A bucket of its own, far from the other tests' clocks.
    const t = Date.UTC(2030, 0, 1, 12, 0, 5);
    const at = (minutes: number) => new Date(t + minutes * 60_000);
    await Promise.all(Array.from({ length: 8 }, () => sendPoolBlocked(buildDeps(d.config, quietLog), pool, reason, at(0))));
    await sendPoolBlocked(d, pool, reason, at(9));
    expect(await drainEvents(undefined, d)).toEqual(["delivered"]);
    expect(JSON.parse(hook.got[0]!.body)).toMatchObject({
      type: "com.burst.pool.blocked",
      subject: "pools/default",
      time: at(0).toISOString(),
      data: { pool: "default", reason },
    });
    // The next ten minutes tell it again.
    await sendPoolBlocked(d, pool, reason, at(10));
    expect(await drainEvents(undefined, d)).toEqual(["delivered"]);
    expect(JSON.parse(hook.got[1]!.body).id).not.toBe(JSON.parse(hook.got[0]!.body).id);
  });

  it("tells a pool of a launch deferred because no placement has room, from the launch step itself", async () => {
    await submitJob(deps, { ...HI, pool: "tight" });
    const { job } = await submitJob(deps, { ...HI, pool: "tight" });
    // The submission answers once the job is admitted; its launch, deferred for want of room, follows.
    await waitUntil(async () => (await deps.jobs.get(job.id))!.value.reason ?? "", {
      what: `job ${job.id}'s launch to wait for capacity`,
      until: (r) => /^capacity: no placement has room/.test(r),
    });
    expect(await drainEvents()).toEqual(["delivered"]);
    const { receivedMessageItems: got } = await queues.getQueueClient("tight-pool-events").receiveMessages({ numberOfMessages: 32 });
    expect(got.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")))).toMatchObject([
      { type: "com.burst.pool.blocked", subject: "pools/tight", data: { pool: "tight", reason: expect.stringMatching(/^capacity: /) } },
    ]);
  });

  it("keeps an event queued before a crash at the final write, and the repeated step queues it again under the same id", async () => {
    const hook = await hookFor();
    const { job } = await submitJob(deps, {
      ...HI,
      events: { types: ["job.ended"], webhook: { url: hook.url } },
    });
    // A process that dies at the write that would end the job: every step before it runs.
    let crashes = 0;
    const crashing: JobStore = Object.create(deps.jobs, {
      replace: {
        value: async (next: JobRecord, etag: string, before?: JobRecord) => {
          if (before?.state === "Finishing" && next.state !== "Finishing") {
            crashes++;
            throw new Error("the process died");
          }
          return deps.jobs.replace(next, etag, before);
        },
      },
    });
    const dying: Deps = { ...deps, jobs: crashing };
    await expect(runToEnd(dying, job.id)).rejects.toThrow("the process died");
    expect(crashes).toBe(1);
    expect((await deps.jobs.get(job.id))!.value.state).toBe("Finishing");

    // The Finishing step resumed (by its message or the reconciler, here directly), in a healthy process.
    await finishJob(deps, job.id);
    expect((await deps.jobs.get(job.id))!.value.state).toBe("Succeeded");

    expect(await drainEvents()).toEqual(["delivered", "delivered"]);
    const ids = hook.got.map((g) => JSON.parse(g.body).id);
    expect(ids).toEqual([eventId(job.id, 1, "job.ended"), eventId(job.id, 1, "job.ended")]);
    expect(hook.got[0]!.body).toBe(hook.got[1]!.body);
  });

  it("tells of the end of a job canceled while it waits for its dependency", async () => {
    const hook = await hookFor();
    const first = (await submitJob(deps, { ...HI, command: ["sleep", "30"] })).job.id;
    const { job } = await submitJob(deps, { ...HI, dependsOn: [{ job: first }], events: { webhook: { url: hook.url } } });
    expect(job.waitingFor).toEqual([first]);
    await cancelJob(deps, job.id);
    expect(await drainEvents()).toEqual(["delivered"]);
    expect(JSON.parse(hook.got[0]!.body)).toMatchObject({
      id: eventId(job.id, 0, "job.ended"),
      type: "com.burst.job.ended",
      data: { state: "Canceled", reason: "canceled while waiting for its dependencies", costUsd: 0 },
    });
    await cancelJob(deps, first);
  });

  it("refuses an events spec without a sink, with an unknown type, or with a plain-http URL off this machine", async () => {
    const bad = async (events: unknown) => (await submitJob(deps, { image: "alpine", timeoutSeconds: 60, events })).job.errors;
    expect(await bad({ types: ["job.ended"] })).toEqual([{ field: "events", rule: "must name a sink: webhook, queue or eventGrid" }]);
    expect(await bad({ types: ["job.done"], queue: { name: "ok-queue" } })).toEqual([
      { field: "events.types[0]", rule: 'must be one of "job.ended", "attempt.failed"' },
    ]);
    // A pool event is a pool's to ask for, not a job's.
    expect(await bad({ types: ["budget.threshold"], queue: { name: "ok-queue" } })).toEqual([
      { field: "events.types[0]", rule: 'must be one of "job.ended", "attempt.failed"' },
    ]);
    expect(await bad({ webhook: { url: "http://example.com/hook" } })).toEqual([
      { field: "events.webhook.url", rule: "must be an https URL (http only for localhost)" },
    ]);
    expect(await bad({ webhook: { url: "https://example.com/hook", secret: "short" } })).toEqual([
      { field: "events.webhook.secret", rule: "must be at least 16 characters" },
    ]);
    expect(await bad({ eventGrid: { endpoint: "https://t.westus2-1.eventgrid.azure.net/api/events" } })).toEqual([
      { field: "events.eventGrid.key", rule: "must be a string" },
    ]);
    expect(await bad({ queue: { name: "Bad_Name" } })).toEqual([
      { field: "events.queue.name", rule: "must be a Storage queue name: 3-63 lowercase letters, digits and single dashes" },
    ]);
  });
});
