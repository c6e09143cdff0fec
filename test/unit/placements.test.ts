import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import {
  cooldownSeconds,
  countCall,
  callsFrom,
  deleteRoom,
  placementOrder,
  room,
  type Placement,
  type QuotaUse,
} from "../../src/placements.js";

const base = { AzureWebJobsStorage: "UseDevelopmentStorage=true" };
const SUB_A = "11111111-1111-1111-1111-111111111111";
const SUB_B = "22222222-2222-2222-2222-222222222222";
const spotPrices = { vcpuSecondUsd: 0.000004, gbSecondUsd: 0.0000004, source: "test", date: "2026" };
const pools = (pool: unknown) => loadConfig({ ...base, BURST_POOLS: JSON.stringify({ pools: { p: pool } }) }).pools.get("p")!;
const refusal = (pool: unknown) => {
  try {
    pools(pool);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the pool to be refused");
};

describe("a pool's placements", () => {
  it("makes today's single subscription, resource group and region a one-placement pool", () => {
    const p = pools({ maxConcurrency: 2, resourceGroup: "rg" });
    expect(p.placements).toMatchObject([
      {
        id: "00000000-0000-0000-0000-000000000000/rg/eastus/Regular",
        priority: "Regular",
        limits: { groups: 100, cores: 100, createsPer5Min: 100, createsPerHour: 300 },
      },
    ]);
    expect(p.spot).toBe("preferred");
  });

  it("gives a one-placement pool the limits it names, filling the rest with ACI's defaults", () => {
    const p = pools({ maxConcurrency: 2, resourceGroup: "rg", limits: { createsPer5Min: 300, createsPerHour: 900 } });
    expect(p.placements[0]!.limits).toEqual({ groups: 100, cores: 100, createsPer5Min: 300, createsPerHour: 900 });
    expect(refusal({ maxConcurrency: 1, limits: { groups: 0 } })).toMatch(/pools\.p\.limits\.groups: .*got 0/);
  });

  it("keeps the listed order, takes built-in prices for Regular eastus, and reserves budgets at the highest prices", () => {
    const p = pools({
      maxConcurrency: 5,
      placements: [
        { subscriptionId: SUB_A, resourceGroup: "rg", region: "eastus", priority: "Spot", prices: spotPrices, limits: { groups: 3 } },
        { subscriptionId: SUB_B, resourceGroup: "rg", region: "eastus" },
      ],
    });
    expect(p.placements.map((x) => x.id)).toEqual([`${SUB_A}/rg/eastus/Spot`, `${SUB_B}/rg/eastus/Regular`]);
    expect(p.placements[0]!.limits).toEqual({ groups: 3, cores: 100, createsPer5Min: 100, createsPerHour: 300 });
    expect(p.prices.vcpuSecondUsd).toBe(p.placements[1]!.prices.vcpuSecondUsd);
    expect(p.subscriptionId).toBe(SUB_A);
  });

  it("refuses placements given with the single-placement fields, twice the same, without prices, or a spot default none can serve", () => {
    const one = { subscriptionId: SUB_A, resourceGroup: "rg", region: "eastus" };
    expect(refusal({ maxConcurrency: 1, region: "eastus", placements: [one] })).toMatch(
      /pools\.p: give either placements or region, not both/,
    );
    expect(refusal({ maxConcurrency: 1, limits: { groups: 5 }, placements: [one] })).toMatch(
      /pools\.p: give either placements or limits, not both/,
    );
    expect(refusal({ maxConcurrency: 1, placements: [one, one] })).toMatch(
      /pools\.p\.placements\[1\]: must differ from placements\[0\] \(both are 1111.*\/rg\/eastus\/Regular\)/,
    );
    expect(refusal({ maxConcurrency: 1, placements: [{ ...one, region: "westeurope" }] })).toMatch(
      /pools\.p\.placements\[0\]\.prices is required: there is no built-in price table for westeurope\/Standard/,
    );
    expect(refusal({ maxConcurrency: 1, placements: [{ ...one, priority: "Spot" }] })).toMatch(/placements\[0\]\.prices is required.*Spot/);
    expect(refusal({ maxConcurrency: 1, spot: "required", placements: [one] })).toMatch(
      /pools\.p\.spot: "required" needs a Spot placement/,
    );
    expect(refusal({ maxConcurrency: 1, placements: [{ ...one, priority: "Cheap" }] })).toMatch(
      /pools\.p\.placements\.0\.priority|placements\[0\]\.priority/,
    );
    expect(refusal({ maxConcurrency: 1, placements: [] })).toMatch(/placements/);
  });
});

const placement = (limits: Partial<Placement["limits"]> = {}): Placement => ({
  id: `${SUB_A}/rg/eastus/Regular`,
  subscriptionId: SUB_A,
  resourceGroup: "rg",
  region: "eastus",
  priority: "Regular",
  prices: spotPrices,
  limits: { groups: 2, cores: 3, createsPer5Min: 100, createsPerHour: 300, ...limits },
});
const empty = (): QuotaUse => ({ holders: {}, creates: [], deletes: [], breakers: {} });

describe("room in a placement", () => {
  it("counts groups and cores held by anyone in the subscription and region", () => {
    const use = empty();
    expect(room(use, placement(), 2, 0).ok).toBe(true);
    use.holders["a#1"] = { cores: 2, placement: "other" };
    expect(room(use, placement(), 2, 0)).toMatchObject({ ok: false, why: "cores" });
    expect(room(use, placement(), 1, 0).ok).toBe(true);
    use.holders["b#1"] = { cores: 0.5, placement: "other" };
    expect(room(use, placement(), 0.5, 0)).toMatchObject({ ok: false, why: "groups" });
  });

  it("paces creates to both windows, with a margin for ACI's clock, and says when the oldest counted create leaves", () => {
    const use = empty();
    use.creates = [
      [10, 1],
      [20, 1],
    ];
    // Counted for 300 s + WINDOW_MARGIN_SECONDS (2 s): Burst counts before the PUT, ACI when it arrives.
    expect(room(use, placement({ createsPer5Min: 2 }), 1, 100_000)).toMatchObject({ ok: false, why: "creates", retryAt: 312_000 });
    expect(room(use, placement({ createsPer5Min: 2 }), 1, 311_000).ok).toBe(false);
    expect(room(use, placement({ createsPer5Min: 2 }), 1, 312_000).ok).toBe(true);
    expect(room(use, placement({ createsPerHour: 2 }), 1, 312_000)).toMatchObject({ ok: false, why: "creates", retryAt: 3_612_000 });
  });

  it("counts creates sent in the same second together, and knows how many of them must leave", () => {
    const use = empty();
    // Counted out of order (clocks of several instances): kept oldest first.
    for (const t of [10, 20, 10, 20, 10]) countCall(use.creates, t);
    expect(use.creates).toEqual([
      [10, 3],
      [20, 2],
    ]);
    expect(room(use, placement({ createsPer5Min: 3 }), 1, 100_000)).toMatchObject({
      ok: false,
      retryAt: 312_000,
      detail: "5 of 3 creates in the last 5 minutes",
    });
    expect(room(use, placement({ createsPer5Min: 2 }), 1, 100_000)).toMatchObject({ ok: false, retryAt: 322_000 });
    expect(room(use, placement({ createsPer5Min: 6 }), 1, 100_000).ok).toBe(true);
    expect(callsFrom([20, 10, [30, 4]])).toEqual([
      [10, 1],
      [20, 1],
      [30, 4],
    ]);
  });

  it("paces deletes to the same windows as creates, apart from them", () => {
    const use = empty();
    for (let i = 0; i < 3; i++) countCall(use.deletes, 50);
    const p = placement({ createsPer5Min: 3 });
    expect(deleteRoom(use, p, 100_000)).toMatchObject({
      ok: false,
      why: "deletes",
      retryAt: 352_000,
      detail: "3 of 3 deletes in the last 5 minutes",
    });
    expect(room(use, p, 1, 100_000).ok).toBe(true);
    expect(deleteRoom(use, p, 352_000).ok).toBe(true);
  });

  it("skips a cooling placement until its cooldown ends, and doubles the cooldown with each refusal in a row", () => {
    const use = empty();
    use.breakers[placement().id] = { failures: 1, until: new Date(60_000).toISOString(), reason: "capacity" };
    expect(room(use, placement(), 1, 59_000)).toMatchObject({ ok: false, why: "cooling", retryAt: 60_000 });
    expect(room(use, placement(), 1, 60_000).ok).toBe(true);
    expect([1, 2, 3, 10].map(cooldownSeconds)).toEqual([30, 60, 120, 900]);
  });
});

describe("the order placements are tried in", () => {
  const regular = placement();
  const spot = { ...placement(), id: "spot", priority: "Spot" as const };
  it("puts Spot first for preferred, keeps to one kind for never and required, and never sends a big or public job to Spot", () => {
    const small = { cpu: 1, memoryGb: 1 };
    expect(placementOrder([regular, spot], "preferred", small).map((p) => p.id)).toEqual(["spot", regular.id]);
    expect(placementOrder([regular, spot], "never", small)).toEqual([regular]);
    expect(placementOrder([regular, spot], "required", small)).toEqual([spot]);
    expect(placementOrder([regular, spot], "preferred", { cpu: 8, memoryGb: 1 })).toEqual([regular]);
    expect(placementOrder([regular, spot], "required", { cpu: 1, memoryGb: 1, publicIp: true })).toEqual([]);
  });
});
