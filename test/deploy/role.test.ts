/**
 * The custom role in infra/azuredeploy.json holds exactly the ARM actions Burst calls, and
 * the operation read an asynchronous answer of ACI would need.
 * Burst runs end to end against the ACI emulator, which records every call by the action
 * ARM would authorize it as (stats().actions): a job that succeeds, one that times out
 * (a stop), a group whose job record vanished (the reconciler lists and deletes it), and
 * the bill true-up (a Cost Management query). Only Burst calls the emulator here; the test
 * itself reads storage and the emulator's in-process stats.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TableClient } from "@azure/data-tables";
import { inject } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { ROOT } from "../support/hostProcess.js";
import { reconcile } from "../../src/scheduler/reconcile.js";

const template = JSON.parse(readFileSync(path.join(ROOT, "infra/azuredeploy.json"), "utf8"));
const roleActions: string[] = template.variables.burstActions;

describe("the Burst role", () => {
  let stack: Stack;
  const rg = `rg-role-${Date.now()}`;
  beforeAll(async () => {
    stack = await startStack({
      pools: { default: { maxConcurrency: 3, resourceGroup: rg } },
      env: { BURST_BILL_CHECK_SECONDS: "0" },
      emulator: { costs: { reportDelayMs: 0 } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("is the role the template assigns on every pool's resource group", () => {
    const role = template.resources.find((r: { type: string }) => r.type === "Microsoft.Authorization/roleDefinitions");
    expect(role.properties.permissions).toEqual([{ actions: "[variables('burstActions')]", notActions: [] }]);
    expect(new Set(roleActions).size).toBe(roleActions.length);
  });

  it("allows every ARM action Burst performs end to end, and nothing Burst does not use", async () => {
    const done = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo hello"], timeoutSeconds: 60 });
    const late = await stack.enqueue({ image: "alpine", command: ["sleep", "300"], timeoutSeconds: 2 });
    const lost = await stack.enqueue({ image: "alpine", command: ["sleep", "300"], timeoutSeconds: 120 });
    expect((await stack.waitFor(done)).state).toBe("Succeeded");
    expect((await stack.waitFor(late)).state).toBe("TimedOut");
    const running = await stack.waitFor(lost, (j) => j.state === "Running");
    // The job's record vanishes (a storage mishap): its group is now an orphan the reconciler must find and delete.
    const jobs = TableClient.fromConnectionString(inject("storageConnectionString"), stack.deps.config.names.jobsTable, {
      allowInsecureConnection: true,
    });
    for await (const e of jobs.listEntities({ queryOptions: { filter: `PartitionKey eq '${lost}'` } }))
      await jobs.deleteEntity(e.partitionKey, e.rowKey);
    expect(await stack.deps.jobs.get(lost)).toBeUndefined();
    const report = await reconcile(stack.deps, { orphanGraceSeconds: 0 });
    expect(report.orphansDeleted).toBe(1);
    expect(stack.emulator.stats().alive.find((g) => g.name === running.attempts[0]!.group)).toBeUndefined();
    // The true-up reads the bills of the settled attempts.
    await waitUntil(async () => (await stack.deps.jobs.get(done))?.value.billedUsd, {
      what: `job ${done}'s bill from Cost Management`,
      until: (b) => b !== undefined,
      timeoutMs: 30_000,
    });

    const performed = Object.keys(stack.emulator.stats().actions).sort();
    // Kept for an operation ACI answers asynchronously: its spec lets a DELETE answer 202, to
    // be polled (shared/reference/aci/containerInstance.2023-05-01.json: DELETE 200, 202, 204),
    // where the live recordings (azure-sdk-for-net Delete_RegularPriority; the emulator's
    // README, "Live behaviours") and so the emulator answer 200. A create's own operation read is
    // never sent (AciBackend.create).
    const ifAsynchronous = ["Microsoft.ContainerInstance/locations/operations/read"];
    expect(performed).toEqual(roleActions.filter((a) => !ifAsynchronous.includes(a)).sort());
    expect(roleActions).toEqual(expect.arrayContaining(ifAsynchronous));
  });
});
