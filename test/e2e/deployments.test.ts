/**
 * Two Burst deployments that share a resource group and a pool name: each keeps its jobs
 * in its own storage, so to the other one every group it made looks orphaned. The
 * deployment id tag is what keeps each reconciler to its own groups.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, quietLog, type Stack } from "../support/harness.js";
import { uniqueName } from "../support/hostProcess.js";
import { createAciClient } from "../../src/aci/client.js";
import { TAGS } from "../../src/aci/groupSpec.js";
import { loadConfig } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import { reconcile } from "../../src/scheduler/reconcile.js";
import type { Deps } from "../../src/scheduler/deps.js";

describe("two deployments sharing a resource group and a pool name", () => {
  const rg = `rg-dep-${Date.now()}`;
  const sub = "00000000-0000-0000-0000-000000000000";
  let a: Stack;
  let b: Deps;
  beforeAll(async () => {
    a = await startStack({ pools: { default: { maxConcurrency: 2, resourceGroup: rg } }, env: { BURST_DEPLOYMENT_ID: "burst-a" } });
    // Deployment b: its own storage prefix and id, the same emulator, resource group and pool.
    b = buildDeps(
      loadConfig({ ...a.env, BURST_STORAGE_PREFIX: uniqueName("b").replace(/-/g, ""), BURST_DEPLOYMENT_ID: "burst-b" }),
      quietLog,
    );
  });
  afterAll(async () => {
    await a?.stop();
  });

  const alive = () => a.emulator.stats().alive.filter((g) => g.resourceGroup === rg);

  it("tags every container group with its deployment id", async () => {
    const id = await a.enqueue({ image: "alpine", command: ["sleep", "300"], timeoutSeconds: 120 });
    const job = await a.waitFor(id, (j) => j.state === "Running");
    const group = alive().find((g) => g.name === job.attempts[0]!.group);
    expect(group?.tags[TAGS.deployment]).toBe("burst-a");
  });

  it("do not reap each other's groups; each reaps its own orphans", async () => {
    // An orphan of b's: tagged by b, with no job behind it anywhere.
    const aci = createAciClient({ subscriptionId: sub, endpoint: a.emulator.url, emulatorToken: a.env.BURST_EMULATOR_TOKEN });
    const old = new Date(Date.now() - 3600_000).toISOString();
    await aci.containerGroups.beginCreateOrUpdate(rg, "burst-jorphanofb-1", {
      location: "eastus",
      osType: "Linux",
      restartPolicy: "Never",
      tags: {
        [TAGS.managed]: "true",
        [TAGS.pool]: "default",
        [TAGS.job]: "jorphanofb",
        [TAGS.attempt]: "1",
        [TAGS.created]: old,
        [TAGS.deployment]: "burst-b",
      },
      containers: [{ name: "job", image: "alpine", command: ["sleep", "300"], resources: { requests: { cpu: 0.5, memoryInGB: 0.5 } } }],
    });
    const running = alive().find((g) => g.tags[TAGS.deployment] === "burst-a")!;
    expect(running).toBeDefined();

    // a's reconciler, with no grace: b's orphan is not a's to judge.
    expect((await reconcile(a.deps, { orphanGraceSeconds: 0 })).orphansDeleted).toBe(0);
    // b's reconciler: a's running group has no job in b's storage, yet it stays; b's own orphan goes.
    expect((await reconcile(b, { orphanGraceSeconds: 0 })).orphansDeleted).toBe(1);
    expect(alive().map((g) => g.name)).toEqual([running.name]);
    const job = await a.deps.jobs.get(running.tags[TAGS.job]!);
    expect(job?.value.state).toBe("Running");
  });
});
