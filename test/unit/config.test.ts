import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeConfig, loadConfig, readSettingDocument, storageNames, ConfigError } from "../../src/config.js";
import { claimsTableName } from "../../src/github/settings.js";

const base = { AzureWebJobsStorage: "UseDevelopmentStorage=true" };

describe("settings documents", () => {
  it("prefers the _FILE setting over the inline one, and says which it read", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "burst-config-"));
    const file = path.join(dir, "pools.yaml");
    writeFileSync(file, "pools:\n  fast: { maxConcurrency: 3 }\n");
    const got = readSettingDocument({ X_FILE: file, X: "pools: {}" }, "X");
    expect(got).toEqual({ doc: { pools: { fast: { maxConcurrency: 3 } } }, where: `X_FILE (${file})` });
    expect([...loadConfig({ ...base, BURST_POOLS_FILE: file }).pools.keys()]).toEqual(["fast"]);
  });

  it("names the setting when its text is not JSON or YAML, or its file cannot be read", () => {
    expect(() => loadConfig({ ...base, BURST_POOLS: "pools: [unclosed" })).toThrow(/^BURST_POOLS is not valid JSON or YAML/);
    expect(() => loadConfig({ ...base, BURST_POOLS_FILE: "/nonexistent/pools.yaml" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, BURST_POOLS_FILE: "/nonexistent/pools.yaml" })).toThrow(/BURST_POOLS_FILE="\/nonexistent\/pools.yaml" cannot be read/);
  });

  it("falls back to the default pool when neither is set, and names a bad pool field with its pool", () => {
    expect([...loadConfig(base).pools.keys()]).toEqual(["default"]);
    expect(() => loadConfig({ ...base, BURST_POOLS: '{"pools":{"p":{"maxConcurrency":0}}}' })).toThrow(/BURST_POOLS: pools\.p\.maxConcurrency/);
    expect(readSettingDocument({}, "X")).toBeUndefined();
  });

  it("ends a pool field's error with the bad value, as the hand-written errors do", () => {
    const error = (pool: unknown) => {
      try {
        loadConfig({ ...base, BURST_POOLS: JSON.stringify({ pools: { p: pool } }) });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("expected the pool to be refused");
    };
    expect(error({ maxConcurrency: 0 })).toBe("BURST_POOLS: pools.p.maxConcurrency: must be at least 1, got 0");
    expect(error({ maxConcurrency: 1, region: "West Europe" })).toMatch(/^BURST_POOLS: pools\.p\.region: .*, got "West Europe"$/);
    expect(error({ maxConcurrency: 1, budget: { dailyUsd: "5" } })).toMatch(/^BURST_POOLS: pools\.p\.budget\.dailyUsd: .*, got "5"$/);
  });

  it("keeps finished jobs 30 days unless the pool says otherwise, and refuses a retention that is not whole days from 1 to 3650", () => {
    expect(loadConfig(base).pools.get("default")!.retentionDays).toBe(30);
    expect(loadConfig({ ...base, BURST_POOLS: '{"pools":{"p":{"maxConcurrency":1,"retentionDays":7}}}' }).pools.get("p")!.retentionDays).toBe(7);
    const refused = (v: unknown) => () => loadConfig({ ...base, BURST_POOLS: JSON.stringify({ pools: { p: { maxConcurrency: 1, retentionDays: v } } }) });
    expect(refused(0)).toThrow("BURST_POOLS: pools.p.retentionDays: must be at least 1, got 0");
    expect(refused(3651)).toThrow("BURST_POOLS: pools.p.retentionDays: must be at most 3650, got 3651");
    expect(refused(1.5)).toThrow(/pools\.p\.retentionDays: .*, got 1\.5$/);
  });
});

describe("the ARM share", () => {
  it("defaults to 0.8 of each subscription bucket and takes any part above 0 up to all of it", () => {
    expect(loadConfig(base).armShare).toBe(0.8);
    expect(loadConfig({ ...base, BURST_ARM_SHARE: "0.5" }).armShare).toBe(0.5);
    expect(loadConfig({ ...base, BURST_ARM_SHARE: "1" }).armShare).toBe(1);
  });

  it("refuses a share that is not above 0 and at most 1, naming the setting and the value", () => {
    for (const bad of ["0", "1.5", "half", "-0.2"]) {
      expect(() => loadConfig({ ...base, BURST_ARM_SHARE: bad })).toThrow(`BURST_ARM_SHARE must be a number above 0 and at most 1 (the part of each subscription's ARM rate limits Burst may use), got "${bad}"`);
    }
  });
});

describe("the reconciler's schedule", () => {
  it("defaults to every 30 seconds and takes a 6-field NCRONTAB or a TimeSpan, as the Functions host does", () => {
    expect(loadConfig(base).reconcileSchedule).toBe("*/30 * * * * *");
    expect(loadConfig({ ...base, BURST_RECONCILE_SCHEDULE: "0 */5 * * * *" }).reconcileSchedule).toBe("0 */5 * * * *");
    expect(loadConfig({ ...base, BURST_RECONCILE_SCHEDULE: "00:05:00" }).reconcileSchedule).toBe("00:05:00");
    expect(loadConfig({ ...base, BURST_RECONCILE_SCHEDULE: "1.00:00:00" }).reconcileSchedule).toBe("1.00:00:00");
  });

  it("refuses a schedule the host would refuse, naming the setting, the rule and the value", () => {
    const rule = 'BURST_RECONCILE_SCHEDULE must be a 6-field NCRONTAB ("{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "*/30 * * * * *") or a TimeSpan ("hh:mm:ss")';
    const refused = (schedule: string) => () => loadConfig({ ...base, BURST_RECONCILE_SCHEDULE: schedule });
    expect(refused("*/5 * * * *")).toThrow(`${rule}: it has 5 fields, got "*/5 * * * *"`);
    expect(refused("61 * * * * *")).toThrow(/^BURST_RECONCILE_SCHEDULE must be a 6-field NCRONTAB .*: .*61.*, got "61 \* \* \* \* \*"$/);
    expect(refused("every 30 seconds")).toThrow(`${rule}: it has 3 fields, got "every 30 seconds"`);
    expect(refused("5:00")).toThrow(`${rule}: it is not a TimeSpan, got "5:00"`);
    expect(refused("25:00:00")).toThrow(`${rule}: hours go up to 23, minutes and seconds up to 59, got "25:00:00"`);
    expect(refused("00:00:00")).toThrow(`${rule}: the interval must be more than zero, got "00:00:00"`);
    expect(refused("00:00:00")).toThrow(ConfigError);
  });
});

describe("storage names", () => {
  it("names the GitHub claims table with the other tables, from the same prefix", () => {
    expect(storageNames("team-a")).toMatchObject({ jobsTable: "teamaJobs", ledgerTable: "teamaLedger", githubTable: "teamaGitHub" });
    expect(claimsTableName({ BURST_STORAGE_PREFIX: "team-a" })).toBe("teamaGitHub");
    expect(claimsTableName({})).toBe("burstGitHub");
  });
});

describe("the host settings the code relies on", () => {
  it("knows the same maxDequeueCount as host.json, so a step's last try is recognised", async () => {
    const { readFileSync } = await import("node:fs");
    const { MAX_DEQUEUE_COUNT } = await import("../../src/scheduler/abandon.js");
    const host = JSON.parse(readFileSync(new URL("../../host.json", import.meta.url), "utf8"));
    expect(host.extensions.queues.maxDequeueCount).toBe(MAX_DEQUEUE_COUNT);
  });
});

describe("pool limits", () => {
  it("refuses a default timeout above the pool's maximum, naming both", () => {
    const env = { AzureWebJobsStorage: "UseDevelopmentStorage=true", BURST_POOLS: JSON.stringify({ pools: { p: { maxConcurrency: 1, defaultTimeoutSeconds: 7200, maxTimeoutSeconds: 3600 } } }) };
    expect(() => loadConfig(env)).toThrow(/^BURST_POOLS: pools\.p\.defaultTimeoutSeconds: must not be more than maxTimeoutSeconds \(3600\), got 7200$/);
  });
});

describe("what a command says it acts on", () => {
  it("names the storage account, prefix, ARM endpoint and pools, and never the account key", () => {
    const key = "c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24=";
    const text = describeConfig(loadConfig({
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=burstprod;AccountKey=${key};EndpointSuffix=core.windows.net`,
      BURST_STORAGE_PREFIX: "team-a",
      BURST_POOLS: '{"pools":{"batch":{"maxConcurrency":4,"resourceGroup":"rg-batch","region":"westeurope","prices":{"vcpuSecondUsd":0.00001,"gbSecondUsd":0.000001,"source":"test","date":"2026"}}}}',
    }));
    expect(text).toBe("storage account burstprod (core.windows.net), prefix team-a; Azure Resource Manager; pools batch (00000000-0000-0000-0000-000000000000/rg-batch, westeurope); deployment local");
    expect(text).not.toContain(key);
    expect(describeConfig(loadConfig({ ...base, BURST_ARM_ENDPOINT: "http://127.0.0.1:4280" }))).toMatch(/^storage the local storage emulator \(UseDevelopmentStorage\), prefix burst; ARM at http:\/\/127\.0\.0\.1:4280; pools default/);
  });
});
