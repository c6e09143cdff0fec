import type { FullOperationResponse } from "@azure/core-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { group, POLL, RG, SUB, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
beforeAll(async () => {
  // These tests read the events the service can show; the default (absent) is tested in recorded.test.ts.
  t = await startTestEmulator({ runtime: "sim", fidelity: { containerEvents: "present" } });
});
beforeEach(async () => {
  await t.emulator.reset();
});
afterAll(async () => {
  await t.emulator.close();
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const events = (g: { containers: { instanceView?: { events?: { name?: string }[] } }[] }) =>
  (g.containers[0]!.instanceView?.events ?? []).map((e) => e.name);

describe("container group lifecycle", () => {
  it("creates a group and the SDK's poller follows Azure-AsyncOperation to Succeeded", async () => {
    const created = await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "job-1", group({ command: sh("sleep 5") }), POLL);
    expect(created.provisioningState).toBe("Succeeded");
    expect(created.id).toBe(`/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/job-1`);
    const stats = t.emulator.stats();
    expect(stats.counts.creates).toBe(1);
    expect(stats.createsByName).toEqual({ "job-1": 1 });
    expect(stats.alive.map((g) => [g.name, g.state])).toEqual([["job-1", "Running"]]);
  });

  it("walks the instance view from Pending through Running to Succeeded with ACI's events", async () => {
    t.emulator.setTimings({ pullDelayMs: 300 });
    try {
      const poller = await t.client.containerGroups.beginCreateOrUpdate(RG, "walk", group({ command: sh("echo hi; sleep 0.3") }), POLL);
      const early = await t.client.containerGroups.get(RG, "walk");
      expect(early.instanceView?.state).toBe("Pending");
      expect(["Pending", "Creating"]).toContain(early.provisioningState);
      expect(early.containers[0]!.instanceView?.currentState?.state).toBe("Waiting");
      await poller.pollUntilDone();
      const running = await waitForState(t.client, "walk", ["Running"]);
      expect(running.provisioningState).toBe("Succeeded");
      expect(running.containers[0]!.instanceView?.currentState).toMatchObject({ state: "Running", startTime: expect.any(Date) });
      expect(events(running)).toEqual(["Pulling", "Pulled", "Started"]);
      const done = await waitForState(t.client, "walk", ["Succeeded"]);
      expect(done.containers[0]!.instanceView).toMatchObject({
        restartCount: 0,
        currentState: { state: "Terminated", exitCode: 0, detailStatus: "Completed", finishTime: expect.any(Date) },
      });
      const pulled = done.containers[0]!.instanceView!.events!.find((e) => e.name === "Pulled")!;
      expect(pulled).toMatchObject({ count: 1, type: "Normal", message: 'Successfully pulled image "alpine:3.20"' });
    } finally {
      t.emulator.setTimings({ pullDelayMs: 30 });
    }
  });

  it("ends Failed with the exit code when a Never-restart container fails", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "fails", group({ command: sh("echo oops; exit 3") }), POLL);
    const g = await waitForState(t.client, "fails", ["Failed"]);
    expect(g.provisioningState).toBe("Succeeded");
    expect(g.containers[0]!.instanceView?.currentState).toMatchObject({ state: "Terminated", exitCode: 3, detailStatus: "Error" });
  });

  it("restarts a failing container under OnFailure with BackOff events, and keeps the group Running", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "crashloop", group({ command: sh("exit 2"), restartPolicy: "OnFailure" }), POLL);
    const g = await until(async () => {
      const x = await t.client.containerGroups.get(RG, "crashloop");
      return (x.containers[0]!.instanceView?.restartCount ?? 0) >= 2 ? x : undefined;
    });
    expect(g.instanceView?.state).toBe("Running");
    expect(g.containers[0]!.instanceView?.previousState).toMatchObject({ state: "Terminated", exitCode: 2 });
    expect(g.containers[0]!.instanceView!.events!.find((e) => e.name === "BackOff")).toMatchObject({ type: "Warning" });
  });

  it("does not restart a container that exits 0 under OnFailure, but does under Always", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "onfailure-ok", group({ command: sh("true"), restartPolicy: "OnFailure" }), POLL);
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "always", group({ command: sh("true"), restartPolicy: "Always" }), POLL);
    const ok = await waitForState(t.client, "onfailure-ok", ["Succeeded"]);
    expect(ok.containers[0]!.instanceView?.restartCount).toBe(0);
    const always = await until(async () => {
      const x = await t.client.containerGroups.get(RG, "always");
      return (x.containers[0]!.instanceView?.restartCount ?? 0) >= 1 ? x : undefined;
    });
    expect(always.instanceView?.state).toBe("Running");
  });

  it("says Succeeded only when every container of the group exited 0", async () => {
    const body = group({ command: sh("exit 0") });
    body.containers.push({ ...body.containers[0]!, name: "sidecar", command: sh("sleep 0.2; exit 1") });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "two", body, POLL);
    const g = await waitForState(t.client, "two", ["Succeeded", "Failed"]);
    expect(g.instanceView?.state).toBe("Failed");
    expect(g.containers.map((c) => c.instanceView?.currentState?.exitCode)).toEqual([0, 1]);
  });

  it("stops synchronously, keeps provisioningState Succeeded, and starts and restarts again", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "svc", group({ command: sh("sleep 60") }), POLL);
    await waitForState(t.client, "svc", ["Running"]);
    await t.client.containerGroups.stop(RG, "svc");
    const stopped = await t.client.containerGroups.get(RG, "svc");
    expect(stopped.instanceView?.state).toBe("Stopped");
    expect(stopped.provisioningState).toBe("Succeeded");
    // As recorded live (azure-sdk-for-python, 2019-12-01): no exit code, no start time, and the run as the previous state.
    expect(stopped.containers[0]!.instanceView?.currentState).toEqual({ state: "Terminated", finishTime: expect.any(Date), detailStatus: "Container stopped per client request" });
    expect(stopped.containers[0]!.instanceView?.previousState).toEqual({ state: "Running", startTime: expect.any(Date), detailStatus: "" });
    expect(events(stopped)).toContain("Killing");
    expect(t.emulator.stats().billing[0]!.running).toBe(false);

    await t.client.containerGroups.beginStartAndWait(RG, "svc", POLL);
    const started = await waitForState(t.client, "svc", ["Running"]);
    expect(started.containers[0]!.instanceView?.restartCount).toBe(0);
    await t.client.containerGroups.beginRestartAndWait(RG, "svc", POLL);
    await waitForState(t.client, "svc", ["Running"]);
    const stats = t.emulator.stats();
    expect(stats.counts).toMatchObject({ stops: 1, starts: 1, restarts: 1 });
    expect(stats.billing[0]!.intervals).toHaveLength(2);
  });

  it("treats a PUT repeating the same spec as a no-op: 200, the same group, nothing created", async () => {
    const body = group({ command: sh("sleep 60"), tags: { job: "a" } });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "same", body, POLL);
    const statuses: number[] = [];
    const again = await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "same", body, {
      ...POLL,
      onResponse: (r: FullOperationResponse) => void statuses.push(r.status),
    });
    expect(statuses[0]).toBe(200);
    expect(again.provisioningState).toBe("Succeeded");
    const stats = t.emulator.stats();
    expect(stats.counts).toMatchObject({ creates: 1, updates: 0, idempotentPuts: 1 });
    expect(stats.billing).toHaveLength(1);
  });

  it("updates a group when a PUT changes its spec, and runs the new spec", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "upd", group({ command: sh("sleep 60") }), POLL);
    const statuses: number[] = [];
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "upd", group({ command: sh("echo v2") }), {
      ...POLL,
      onResponse: (r: FullOperationResponse) => void statuses.push(r.status),
    });
    expect(statuses[0]).toBe(200);
    await waitForState(t.client, "upd", ["Succeeded"]);
    expect((await t.client.containers.listLogs(RG, "upd", "main")).content).toBe("v2\n");
    expect(t.emulator.stats().counts).toMatchObject({ creates: 1, updates: 1 });
  });

  it("refuses to move an existing group to another location", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "moving", group({ command: sh("true") }), POLL);
    await expect(
      t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "moving", group({ command: sh("true"), location: "westeurope" }), POLL),
    ).rejects.toMatchObject({ statusCode: 409, code: "InvalidResourceLocation" });
  });

  it("creates one group when the same new name is PUT twice at once", async () => {
    const body = group({ command: sh("sleep 60") });
    await Promise.all([
      t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "race", body, POLL),
      t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "race", body, POLL),
    ]);
    expect(t.emulator.stats().counts.creates).toBe(1);
  });

  it("never returns a secure environment value, in any response", async () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const bodies: string[] = [];
    const capture = { onResponse: (r: FullOperationResponse) => void bodies.push(r.bodyAsText ?? "") };
    const body = group({ command: sh("sleep 60"), env: [{ name: "PLAIN", value: "visible" }, { name: "TOKEN", secureValue: secret }] });
    const created = await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "secret", body, { ...POLL, ...capture });
    await t.client.containerGroups.get(RG, "secret", capture);
    for await (const _ of t.client.containerGroups.listByResourceGroup(RG, capture)) void _;
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "secret", body, { ...POLL, ...capture });
    await t.client.containerGroups.beginDeleteAndWait(RG, "secret", capture);
    expect(bodies.length).toBeGreaterThanOrEqual(5);
    for (const text of bodies) expect(text).not.toContain(secret);
    expect(created.containers[0]!.environmentVariables).toEqual([{ name: "PLAIN", value: "visible" }, { name: "TOKEN" }]);
    expect(JSON.stringify(t.emulator.stats())).not.toContain(secret);
  });

  it("deletes a group with its logs, answers 204 for a second delete, and keeps its billing meter", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "gone", group({ command: sh("echo bye; sleep 60") }), POLL);
    await until(async () => (await t.client.containers.listLogs(RG, "gone", "main")).content === "bye\n");
    const statuses: number[] = [];
    const onResponse = (r: FullOperationResponse) => void statuses.push(r.status);
    await t.client.containerGroups.beginDeleteAndWait(RG, "gone", { onResponse });
    await t.client.containerGroups.beginDeleteAndWait(RG, "gone", { onResponse });
    expect(statuses).toEqual([200, 204]);
    await expect(t.client.containers.listLogs(RG, "gone", "main")).rejects.toMatchObject({ statusCode: 404 });
    await expect(t.client.containerGroups.get(RG, "gone")).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    const stats = t.emulator.stats();
    expect(stats.alive).toEqual([]);
    expect(stats.counts.deletes).toBe(1);
    expect(stats.billing).toMatchObject([{ name: "gone", deleted: true, running: false }]);
  });

  it("counts a name created, deleted and created again twice in createsByName", async () => {
    const body = group({ command: sh("true") });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "again", body, POLL);
    await t.client.containerGroups.beginDeleteAndWait(RG, "again");
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "again", body, POLL);
    const stats = t.emulator.stats();
    expect(stats.createsByName).toEqual({ again: 2 });
    expect(stats.peak.total).toBe(1);
    expect(stats.billing.map((b) => b.deleted)).toEqual([true, false]);
  });

  it("tracks the peak number of groups alive at once, in total, per region, per resource group and per subscription and region", async () => {
    const body = (location: string) => group({ command: sh("sleep 60"), location });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "p1", body("eastus"), POLL);
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "p2", body("eastus"), POLL);
    await t.client.containerGroups.beginCreateOrUpdateAndWait("other-rg", "p3", body("West Europe"), POLL);
    await t.client.containerGroups.beginDeleteAndWait(RG, "p1");
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "p4", body("westeurope"), POLL);
    const stats = t.emulator.stats();
    expect(stats.aliveCount).toBe(3);
    expect(stats.peak).toEqual({
      total: 3,
      byRegion: { eastus: 2, westeurope: 2 },
      byResourceGroup: { [RG]: 2, "other-rg": 1 },
      bySubscriptionRegion: { [`${SUB}/eastus`.toLowerCase()]: 2, [`${SUB}/westeurope`.toLowerCase()]: 2 },
    });
  });
});
