/**
 * The emulator's Cost Management Query API, read over plain HTTP as the service
 * documents it: each container group's cost, as the meter measured it,
 * appears only after the report delay, scoped to its resource group, page by page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { billedResourceId, costsByResource, createAciClient } from "./client.js";
import { startEmulator, type RunningEmulator } from "../src/index.js";
import { FAST, POLL, group, http, SUB, until } from "./helpers.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ runtime: "sim", timings: FAST, costs: { reportDelayMs: 1500 } });
});
afterAll(async () => { await emulator.close(); });

const today = () => new Date().toISOString().slice(0, 10);
const sh = (s: string) => ["/bin/sh", "-c", s];

describe("the Cost Management query served from the billing meter", () => {
  it("reports each group's metered cost per resource id once the report delay has passed, scoped to the resource group", async () => {
    const aci = createAciClient({ subscriptionId: SUB, endpoint: emulator.url });
    for (const [rg, name] of [["costs-a", "one"], ["costs-a", "two"], ["costs-b", "three"]] as const) {
      await aci.containerGroups.beginCreateOrUpdateAndWait(rg, name, group({ command: sh("sleep 1"), cpu: 2, memoryInGB: 3 }), POLL);
    }
    for (const [rg, name] of [["costs-a", "one"], ["costs-a", "two"], ["costs-b", "three"]] as const) {
      await until(async () => (await aci.containerGroups.get(rg, name)).instanceView?.state === "Succeeded", 10_000, `${name} to finish`);
    }
    const scope = { subscriptionId: SUB, resourceGroup: "costs-a" };
    // Not reported yet: Azure's bill lags what ran.
    expect(await costsByResource(emulator.url, scope, today(), today())).toEqual(new Map());

    const reported = await until(async () => {
      const m = await costsByResource(emulator.url, scope, today(), today());
      return m.size === 2 ? m : undefined;
    }, 10_000, "the report delay to pass");
    const c = emulator.costs();
    for (const name of ["one", "two"]) {
      const meter = emulator.stats().billing.find((b) => b.name === name)!;
      expect(reported.get(billedResourceId(scope, name))).toBeCloseTo(meter.vcpuSeconds * c.vcpuSecondUsd + meter.gbSeconds * c.gbSecondUsd, 12);
    }
    expect([...reported.keys()].some((k) => k.endsWith("/three"))).toBe(false);
    // Another day's range holds nothing.
    expect(await costsByResource(emulator.url, scope, "2020-01-01", "2020-01-02")).toEqual(new Map());
  });

  it("pages with nextLink, and the client follows it to the same totals", async () => {
    const scope = { subscriptionId: SUB, resourceGroup: "costs-a" };
    const whole = await costsByResource(emulator.url, scope, today(), today());
    emulator.setLimits({ listPageSize: 1 });
    try {
      const r = await http(`${emulator.url}/subscriptions/${SUB}/resourceGroups/costs-a/providers/Microsoft.CostManagement/query?api-version=2022-10-01`, "POST", {
        type: "ActualCost", timeframe: "MonthToDate",
        dataset: { granularity: "Daily", aggregation: { totalCost: { name: "Cost", function: "Sum" } }, grouping: [{ type: "Dimension", name: "ResourceId" }] },
      });
      expect(r.status).toBe(200);
      expect(r.json.properties.columns).toEqual([
        { name: "Cost", type: "Number" }, { name: "UsageDate", type: "Number" }, { name: "ResourceId", type: "String" }, { name: "Currency", type: "String" },
      ]);
      expect(r.json.properties.rows).toHaveLength(1);
      expect(r.json.properties.rows[0][1]).toBe(Number(today().replace(/-/g, "")));
      expect(r.json.properties.nextLink).toContain("$skiptoken=1");
      expect(await costsByResource(emulator.url, scope, today(), today())).toEqual(whole);
    } finally {
      emulator.setLimits({ listPageSize: 100 });
    }
  });

  it("refuses a query outside the subset it serves, naming what", async () => {
    const r = await http(`${emulator.url}/subscriptions/${SUB}/providers/Microsoft.CostManagement/query?api-version=2022-10-01`, "POST", {
      type: "ActualCost", timeframe: "MonthToDate",
      dataset: { aggregation: { totalCost: { name: "Cost", function: "Sum" } }, filter: { dimensions: { name: "ResourceGroup", operator: "In", values: ["x"] } } },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain("dataset.filter is not supported");
    const v = await http(`${emulator.url}/subscriptions/${SUB}/providers/Microsoft.CostManagement/query?api-version=2023-05-01`, "POST", {});
    expect(v.status).toBe(400);
  });
});
