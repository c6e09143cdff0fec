import { describe, expect, it } from "vitest";
import { endEvents, eventId } from "../../src/events/cloudEvent.js";
import { decideEnd } from "../../src/scheduler/finish.js";
import { checkDefinition } from "../../src/schedules/model.js";
import { loadConfig } from "../../src/config.js";
import { EMPTY_RING } from "../../src/secrets.js";
import type { JobRecord } from "../../src/model.js";

const finishing = (over: Partial<JobRecord> = {}): JobRecord =>
  ({
    id: "j1",
    pool: "default",
    priority: 0,
    labels: { team: "a" },
    state: "Finishing",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:01:00.000Z",
    attempts: [
      {
        n: 1,
        group: "burst-j1-1",
        outcome: "Failed",
        exitCode: 3,
        reason: "exited with 3",
        finishedAt: "2026-01-01T00:00:59.000Z",
        costUsd: 0.001,
      },
    ],
    platformFailures: 0,
    ownFailures: 0,
    monitorSeq: 0,
    log: { lines: 0, bytes: 0 },
    costUsd: 0,
    spec: {
      image: "alpine",
      cpu: 1,
      memoryGb: 1.5,
      retries: 1,
      pool: "default",
      priority: 0,
      labels: {},
      events: { types: ["job.ended", "attempt.failed"], queue: { name: "q-1" } },
    },
    ...over,
  }) as JobRecord;

describe("the events a finishing job sends", () => {
  it("is attempt.failed alone while a retry is due, then both once it is final, each with an id fixed by job, attempt and type", () => {
    const job = finishing();
    const retry = decideEnd(job, 2);
    expect(retry.state).toBe("Waiting");
    const first = endEvents(job, { state: retry.state, costUsd: retry.costUsd }, "/burst/d/pools/default");
    expect(first.map((e) => [e.type, e.data.state, e.id])).toEqual([
      ["com.burst.attempt.failed", "Waiting", eventId("j1", 1, "attempt.failed")],
    ]);

    const last = finishing({ ownFailures: 1, attempts: [...job.attempts, { ...job.attempts[0]!, n: 2 }] });
    const end = decideEnd(last, 2);
    expect(end.state).toBe("Failed");
    const events = endEvents(last, { state: end.state, costUsd: end.costUsd }, "/burst/d/pools/default");
    expect(events.map((e) => e.type)).toEqual(["com.burst.attempt.failed", "com.burst.job.ended"]);
    expect(events[1]).toMatchObject({
      id: eventId("j1", 2, "job.ended"),
      time: "2026-01-01T00:00:59.000Z",
      data: { state: "Failed", exitCode: 3, attempt: 2, costUsd: 0.002 },
    });
    // Decided again after a crash: the very same events.
    expect(endEvents(last, { state: end.state, costUsd: end.costUsd }, "/burst/d/pools/default")).toEqual(events);
  });

  it("is only the types the job asked for, and none when it asked for none", () => {
    const job = finishing({ ownFailures: 1 });
    const only = { ...job, spec: { ...job.spec!, events: { types: ["job.ended" as const], queue: { name: "q-1" } } } };
    expect(endEvents(only, { state: "Failed", costUsd: 0 }, "s").map((e) => e.type)).toEqual(["com.burst.job.ended"]);
    expect(endEvents({ ...job, spec: { ...job.spec!, events: undefined } }, { state: "Failed", costUsd: 0 }, "s")).toEqual([]);
  });

  it("ends Canceled rather than retrying when a cancel was asked for", () => {
    expect(decideEnd(finishing({ cancelRequested: true }), 2).state).toBe("Canceled");
  });
});

describe("a schedule's template", () => {
  /** The errors a nightly schedule with this `events` in its template gets; it must be refused. */
  function refusedWith(events: unknown): string[] {
    const r = checkDefinition({ name: "nightly", cron: "0 3 * * *", job: { image: "alpine", events } }, new Map(), EMPTY_RING);
    expect(r.ok).toBe(false);
    const errors = (r as { errors: { field: string; rule: string }[] }).errors;
    return [errors.map((e) => e.field).join(" "), JSON.stringify(errors)];
  }

  it("refuses a webhook secret, which it would store as given, without quoting it", () => {
    const [fields, text] = refusedWith({ webhook: { url: "https://example.com/h", secret: "s3cr3t-value-of-length" } });
    expect(fields).toContain("job.events.webhook.secret");
    expect(text).not.toContain("s3cr3t");
  });

  it("refuses an Event Grid sink, whose key it would store as given, without quoting the key", () => {
    const [fields, text] = refusedWith({ eventGrid: { endpoint: "https://t.westus2-1.eventgrid.azure.net/api/events", key: "k3y-value" } });
    expect(fields).toContain("job.events.eventGrid");
    expect(text).not.toContain("k3y-value");
  });
});

describe("a pool's default events", () => {
  const withPool = (events: unknown, settings: Record<string, string> = {}) =>
    loadConfig({
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      BURST_POOLS: JSON.stringify({ pools: { default: { maxConcurrency: 2, events } } }),
      ...settings,
    });

  it("reads the webhook secret and the Event Grid key from the app settings the pool names, never from its JSON", () => {
    const config = withPool(
      {
        webhook: { url: "https://example.com/h", secretSetting: "BURST_EVENTS_SECRET" },
        eventGrid: { endpoint: "https://t.westus2-1.eventgrid.azure.net/api/events", keySetting: "BURST_EVENTS_GRID_KEY" },
      },
      { BURST_EVENTS_SECRET: "pool-secret-from-a-setting", BURST_EVENTS_GRID_KEY: "pool-grid-key" },
    );
    expect(config.poolEventSecrets?.get("default")).toEqual({ secret: "pool-secret-from-a-setting", eventGridKey: "pool-grid-key" });
    expect(() => withPool({ webhook: { url: "https://example.com/h", secret: "in-the-json-itself" } })).toThrow(
      /pools\.default\.events\.webhook/,
    );
  });

  it("refuses to start when a setting the pool names is not set", () => {
    expect(() =>
      withPool({ eventGrid: { endpoint: "https://t.westus2-1.eventgrid.azure.net/api/events", keySetting: "BURST_EVENTS_GRID_KEY" } }),
    ).toThrow("pools.default.events.eventGrid.keySetting names the app setting BURST_EVENTS_GRID_KEY, which is not set");
  });
});
