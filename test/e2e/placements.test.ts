import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { costUsd } from "../../src/pricing.js";
import type { JobRecord } from "../../src/model.js";

const sub = (n: number) => `${n}${n}${n}${n}${n}${n}${n}${n}-0000-0000-0000-00000000000${n}`;
const prices = { vcpuSecondUsd: 0.00001, gbSecondUsd: 0.000001, source: "test", date: "2026" };
const spotPrices = { vcpuSecondUsd: 0.000003, gbSecondUsd: 0.0000003, source: "test Spot", date: "2026" };
const job = (seconds: number, extra: object = {}) => ({
  image: "alpine",
  command: ["sh", "-c", `sleep ${seconds}; echo done`],
  timeoutSeconds: 120,
  ...extra,
});
const placementsUsed = (jobs: JobRecord[]) => jobs.flatMap((j) => j.attempts.map((a) => a.placement));

describe("placements across subscriptions and regions (sim runtime)", () => {
  let stack: Stack;
  const rg = (name: string) => `rg-pl-${name}-${Date.now()}`;
  beforeAll(async () => {
    stack = await startStack({
      pools: {
        three: {
          maxConcurrency: 10,
          placements: [
            { subscriptionId: sub(1), resourceGroup: rg("a"), region: "eastus", limits: { groups: 2 } },
            { subscriptionId: sub(2), resourceGroup: rg("b"), region: "eastus", limits: { groups: 2 } },
            { subscriptionId: sub(3), resourceGroup: rg("c"), region: "westus", prices, limits: { groups: 2 } },
          ],
        },
        outage: {
          maxConcurrency: 5,
          placements: [
            { subscriptionId: sub(4), resourceGroup: rg("d"), region: "northeurope", prices },
            { subscriptionId: sub(4), resourceGroup: rg("e"), region: "eastus" },
          ],
        },
        asyncout: {
          maxConcurrency: 3,
          placements: [
            { subscriptionId: sub(7), resourceGroup: rg("i"), region: "westeurope", prices },
            { subscriptionId: sub(7), resourceGroup: rg("j"), region: "eastus" },
          ],
        },
        spot: {
          maxConcurrency: 5,
          maxPlatformRetries: 1,
          placements: [
            { subscriptionId: sub(5), resourceGroup: rg("f"), region: "eastus", priority: "Spot", prices: spotPrices },
            { subscriptionId: sub(5), resourceGroup: rg("f"), region: "eastus" },
          ],
        },
        sharea: {
          maxConcurrency: 4,
          placements: [{ subscriptionId: sub(6), resourceGroup: rg("g"), region: "eastus", limits: { groups: 3 } }],
        },
        shareb: {
          maxConcurrency: 4,
          placements: [{ subscriptionId: sub(6), resourceGroup: rg("h"), region: "eastus", limits: { groups: 3 } }],
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("keeps every placement of a three-placement pool within its quota, and uses all three", async () => {
    stack.emulator.setFaults({});
    const ids = await Promise.all(Array.from({ length: 12 }, () => stack.enqueue({ ...job(2), pool: "three" })));
    const jobs = await stack.waitForAll(ids);
    expect(jobs.map((j) => j.state)).toEqual(Array(12).fill("Succeeded"));
    const peak = stack.emulator.stats().peak.bySubscriptionRegion;
    expect(peak[`${sub(1)}/eastus`]).toBeLessThanOrEqual(2);
    expect(peak[`${sub(2)}/eastus`]).toBeLessThanOrEqual(2);
    expect(peak[`${sub(3)}/westus`]).toBeLessThanOrEqual(2);
    expect(new Set(placementsUsed(jobs)).size).toBe(3);
    // Every reservation was given back with its group.
    const pool = stack.deps.config.pools.get("three")!;
    const status = await Promise.all(pool.placements.map((p) => stack.deps.placements.status(p, new Date())));
    expect(status.map((s) => s.groups.inUse)).toEqual([0, 0, 0]);
    expect(status.map((s) => s.createsLeft.per5Min).reduce((a, b) => a + b)).toBe(300 - 12);
  });

  it("moves new attempts out of a region that lost its capacity, failing no job and counting no retry", async () => {
    stack.emulator.setFaults({});
    const before = await stack.waitForAll([await stack.enqueue({ ...job(0), pool: "outage" })]);
    expect(before[0]!.attempts[0]!.placement).toMatch(/\/northeurope\/Regular$/);
    stack.emulator.setFaults({ capacity: { regions: ["northeurope"], mode: "sync" } });
    const ids = await Promise.all(Array.from({ length: 4 }, () => stack.enqueue({ ...job(1), pool: "outage" })));
    const jobs = await stack.waitForAll(ids);
    expect(jobs.map((j) => j.state)).toEqual(Array(4).fill("Succeeded"));
    expect(jobs.map((j) => [j.attempts.length, j.platformFailures])).toEqual(Array(4).fill([1, 0]));
    expect(placementsUsed(jobs).every((p) => p!.endsWith("/eastus/Regular"))).toBe(true);
    const refused = jobs.flatMap((j) => j.attempts[0]!.refusedBy ?? []);
    expect(refused[0]).toEqual({
      placement: `${sub(4)}/${stack.deps.config.pools.get("outage")!.placements[0]!.resourceGroup}/northeurope/Regular`,
      code: "ServiceUnavailable",
    });
    // The region's breaker is open, so later attempts skip it without asking ACI.
    const cooling = await stack.deps.placements.status(stack.deps.config.pools.get("outage")!.placements[0]!, new Date());
    // Refusals of creates sent before the breaker opened do not lengthen its cooldown.
    expect(cooling.cooldown).toMatchObject({ failures: 1, reason: "capacity (ServiceUnavailable)" });
    stack.emulator.setFaults({});
  });

  it("moves on after a create ACI accepted and then failed for want of capacity, counting no retry", async () => {
    stack.emulator.setFaults({ capacity: { regions: ["westeurope"], mode: "async" } });
    const [done] = await stack.waitForAll([await stack.enqueue({ ...job(0), pool: "asyncout" })]);
    stack.emulator.setFaults({});
    expect(done!.state).toBe("Succeeded");
    expect(done!.attempts.map((a) => [a.placement?.split("/")[2], a.outcome, a.noCapacity])).toEqual([
      ["westeurope", "PlatformError", true],
      ["eastus", "Succeeded", undefined],
    ]);
    expect(done!.platformFailures).toBe(0);
    expect(stack.emulator.stats().alive.filter((g) => g.location === "westeurope")).toEqual([]);
  });

  it("falls back from Spot to Regular after an eviction, recording both attempts at their own prices", async () => {
    stack.emulator.setFaults({ spotEviction: { rate: 1, afterMs: 300 } });
    const [done] = await stack.waitForAll([await stack.enqueue({ ...job(3), pool: "spot", spot: "preferred" })]);
    stack.emulator.setFaults({});
    expect(done!.state).toBe("Succeeded");
    const [spot, regular] = done!.attempts;
    expect(spot).toMatchObject({
      outcome: "PlatformError",
      placement: expect.stringMatching(/\/Spot$/),
      reason: expect.stringMatching(/^evicted from Spot/),
    });
    expect(regular).toMatchObject({ outcome: "Succeeded", placement: expect.stringMatching(/\/Regular$/) });
    expect(done!.platformFailures).toBe(1);
    const pool = stack.deps.config.pools.get("spot")!;
    const { cpu, memoryGb } = done!.spec!;
    expect(spot!.costUsd).toBe(costUsd(spot!.billedSeconds!, cpu, memoryGb, spotPrices));
    expect(regular!.costUsd).toBe(costUsd(regular!.billedSeconds!, cpu, memoryGb, pool.placements[1]!.prices));
    expect(regular!.costUsd).toBeGreaterThan(0);
  });

  it("never lets two pools sharing a subscription and region exceed its quota together", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => stack.enqueue({ ...job(2), pool: i % 2 ? "sharea" : "shareb" })));
    const jobs = await stack.waitForAll(ids);
    expect(jobs.map((j) => j.state)).toEqual(Array(10).fill("Succeeded"));
    expect(stack.emulator.stats().peak.bySubscriptionRegion[`${sub(6)}/eastus`]).toBe(3);
  });
});
