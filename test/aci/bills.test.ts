/**
 * Burst's bill reader (CostManagementBills, on @azure/arm-costmanagement) against the
 * emulator's Cost Management Query API: each group's cost equals its meter, and a result
 * cut into pages by nextLink adds up to the same totals (the SDK has no next-page call, so
 * the reader POSTs the query to nextLink itself).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { CostManagementBills, billedResourceId, createCostClient } from "../../src/aci/bills.js";
import { createAciClient } from "../../src/aci/client.js";
import { waitUntil } from "../support/wait.js";

const SUB = "00000000-0000-0000-0000-000000000001";
const scope = { subscriptionId: SUB, resourceGroup: "bills" };
const today = () => new Date().toISOString().slice(0, 10);

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 30, startDelayMs: 10 }, costs: { reportDelayMs: 0 } });
  const aci = createAciClient({ subscriptionId: SUB, endpoint: emulator.url });
  for (const name of ["one", "two", "three"]) {
    await aci.containerGroups.beginCreateOrUpdateAndWait(
      scope.resourceGroup,
      name,
      {
        location: "eastus",
        osType: "Linux",
        restartPolicy: "Never",
        containers: [
          { name: "main", image: "alpine:3.20", command: ["/bin/sh", "-c", "sleep 1"], resources: { requests: { cpu: 2, memoryInGB: 3 } } },
        ],
      },
      { updateIntervalInMs: 10 },
    );
  }
  await waitUntil(
    async () =>
      (await Promise.all(["one", "two", "three"].map((n) => aci.containerGroups.get(scope.resourceGroup, n)))).every(
        (g) => g.instanceView?.state === "Succeeded",
      ),
    { what: "the three groups to finish" },
  );
});
afterAll(async () => {
  await emulator.close();
});

describe("Burst's Cost Management bill reader against the emulator", () => {
  it("reads each group's metered cost under its lower-case resource id", async () => {
    const bills = new CostManagementBills(createCostClient({ endpoint: emulator.url }));
    const billed = await bills.costsByResource(scope, today(), today());
    const c = emulator.costs();
    for (const name of ["one", "two", "three"]) {
      const meter = emulator.stats().billing.find((b) => b.name === name)!;
      expect(billed.get(billedResourceId(scope, name))).toBeCloseTo(
        meter.vcpuSeconds * c.vcpuSecondUsd + meter.gbSeconds * c.gbSecondUsd,
        12,
      );
    }
  });

  it("follows nextLink page by page to the same totals", async () => {
    const bills = new CostManagementBills(createCostClient({ endpoint: emulator.url }));
    const whole = await bills.costsByResource(scope, today(), today());
    emulator.setLimits({ listPageSize: 1 });
    try {
      expect(await bills.costsByResource(scope, today(), today())).toEqual(whole);
      expect(whole.size).toBe(3);
    } finally {
      emulator.setLimits({ listPageSize: 100 });
    }
  });
});
