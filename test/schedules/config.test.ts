/** BURST_SCHEDULES(_FILE), checked by the one config loader when the app starts. */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { nextTicks, ticksBetween } from "../../src/schedules/model.js";

const base = { AzureWebJobsStorage: "UseDevelopmentStorage=true" };
const job = { image: "busybox", command: ["true"] };
const withSchedules = (schedules: unknown) => loadConfig({ ...base, BURST_SCHEDULES: JSON.stringify({ schedules }) });

describe("schedules in the settings", () => {
  it("are read from BURST_SCHEDULES_FILE with their defaults and the schedule's label", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "burst-schedules-")), "schedules.yaml");
    writeFileSync(
      file,
      "schedules:\n  nightly:\n    cron: '0 2 * * *'\n    timeZone: Europe/Paris\n    job: { image: busybox, command: [echo, hi] }\n",
    );
    const [nightly, ...rest] = loadConfig({ ...base, BURST_SCHEDULES_FILE: file }).schedules;
    expect(rest).toEqual([]);
    expect(nightly).toEqual({
      name: "nightly",
      cron: "0 2 * * *",
      timeZone: "Europe/Paris",
      concurrency: "Allow",
      suspend: false,
      historyLimit: 10,
      job: { image: "busybox", command: ["echo", "hi"], labels: { "burst-schedule": "nightly" } },
    });
    expect(loadConfig(base).schedules).toEqual([]);
  });

  it("are refused at start-up with the setting, the field, the rule and the value", () => {
    expect(() => withSchedules({ a: { cron: "* * *", job } })).toThrow(ConfigError);
    expect(() => withSchedules({ a: { cron: "* * *", job } })).toThrow(
      /^BURST_SCHEDULES: schedules\.a\.cron: must have 5 fields .* got 3 in "\* \* \*"$/,
    );
    expect(() => withSchedules({ a: { cron: "* * * * *", concurrency: "Never", job } })).toThrow(
      /^BURST_SCHEDULES: schedules\.a\.concurrency: .*Forbid.*, got "Never"$/,
    );
    expect(() => withSchedules({ a: { cron: "* * * * *", timeZone: "Nowhere/City", job } })).toThrow(
      /schedules\.a\.timeZone: must be an IANA time zone .*"Nowhere\/City"/,
    );
    expect(() => withSchedules({ a: { cron: "* * * * *", job: { ...job, pool: "nope" } } })).toThrow(/schedules\.a\.job\.pool: /);
    expect(() => withSchedules({ A_B: { cron: "* * * * *", job } })).toThrow(/schedule name "A_B" must be/);
    expect(() => withSchedules({ a: { cron: "* * * * *", startingDeadlineSeconds: 0, job } })).toThrow(
      /schedules\.a\.startingDeadlineSeconds: .*, got 0$/,
    );
  });
});

describe("cron arithmetic", () => {
  it("reads the cron in its time zone, with or without a seconds field", () => {
    const from = new Date("2030-03-30T00:00:00Z");
    // Paris moves to summer time on 31 March 2030: 03:00 local is 02:00 UTC before, 01:00 UTC after.
    expect(nextTicks({ cron: "0 3 * * *", timeZone: "Europe/Paris" }, from, 2).map((d) => d.toISOString())).toEqual([
      "2030-03-30T02:00:00.000Z",
      "2030-03-31T01:00:00.000Z",
    ]);
    expect(nextTicks({ cron: "*/20 * * * * *", timeZone: "UTC" }, from, 2).map((d) => d.toISOString())).toEqual([
      "2030-03-30T00:00:20.000Z",
      "2030-03-30T00:00:40.000Z",
    ]);
  });

  it("counts the ticks an outage missed, and finds the latest even past the counting cap", () => {
    const def = { cron: "* * * * *", timeZone: "UTC" };
    const after = new Date("2030-01-01T10:00:30Z");
    expect(ticksBetween(def, after, new Date("2030-01-01T10:10:30Z"))).toEqual({ count: 10, latest: new Date("2030-01-01T10:10:00Z") });
    expect(ticksBetween(def, after, new Date("2030-01-01T10:00:59Z"))).toEqual({ count: 0, latest: undefined });
    expect(ticksBetween(def, after, new Date("2030-01-05T10:00:30Z"), 100)).toEqual({
      count: 100,
      latest: new Date("2030-01-05T10:00:00Z"),
    });
  });
});
