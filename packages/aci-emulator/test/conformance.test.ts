/**
 * Replays the shapes of Microsoft's reference examples for api-version 2023-05-01
 * through the real SDK client, comparing the raw wire bodies field by field.
 */
import type { FullOperationResponse } from "@azure/core-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromWire, reference, shapeProblems, specProblems } from "./shape.js";
import { POLL, RG, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
beforeAll(async () => {
  // These tests read the events the service can show; the default (absent) is tested in recorded.test.ts.
  t = await startTestEmulator({ runtime: "sim", fidelity: { containerEvents: "present" } });
});
afterAll(async () => {
  await t.emulator.close();
});

interface Wire {
  status: number;
  headers: FullOperationResponse["headers"];
  method: string;
  url: string;
  /** The body as it came over the wire (parsedBody is already the SDK's flattened model). */
  parsedBody: any;
}

/** Collects every raw response the SDK sees for one call. */
function recorder() {
  const responses: Wire[] = [];
  const onResponse = (raw: FullOperationResponse) =>
    void responses.push({
      status: raw.status,
      headers: raw.headers,
      method: raw.request.method,
      url: raw.request.url,
      parsedBody: raw.bodyAsText ? JSON.parse(raw.bodyAsText) : undefined,
    });
  return { responses, onResponse };
}

const example = (name: string) => reference(`${name}.json`);

describe("wire conformance with the reference examples", () => {
  it("answers a create like ContainerGroupsCreateOrUpdate: 201, then 200 for the same PUT again", async () => {
    const ex = example("ContainerGroups_CreateOrUpdate_Container_Groups_Create_Or_Update");
    const body = fromWire(ex.parameters.containerGroup);
    body.zones = ex.parameters.zones;
    const rec = recorder();
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "demo1", body, { ...POLL, onResponse: rec.onResponse });
    const created = rec.responses[0]!;
    expect(created.status).toBe(201);
    expect(created.headers.get("azure-asyncoperation")).toMatch(/\/providers\/Microsoft\.ContainerInstance\/locations\/westus\/operations\/[0-9a-f-]{36}\?api-version=2018-06-01$/);
    // The example's 201 shows an IP; no live PUT answer recorded one (azure-sdk-for-net
    // CreateOrUpdate_RegularPriority, 2023-05-01): it appears once the group has started.
    expect(shapeProblems(ex.responses["201"].body, created.parsedBody, ["properties.ipAddress.ip"])).toEqual([]);
    expect(created.parsedBody.properties.ipAddress.ip).toBeUndefined();
    expect(specProblems(created.parsedBody, "ContainerGroup")).toEqual([]);
    expect(created.parsedBody.properties.provisioningState).toBe("Pending");

    const again = recorder();
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "demo1", body, { ...POLL, onResponse: again.onResponse });
    expect(again.responses[0]!.status).toBe(200);
    expect(shapeProblems(ex.responses["200"].body, again.responses[0]!.parsedBody)).toEqual([]);
    expect(specProblems(again.responses[0]!.parsedBody, "ContainerGroup")).toEqual([]);
    // Secrets in the request never come back.
    const text = JSON.stringify(again.responses[0]!.parsedBody);
    for (const secret of ["accountKey", "workspaceKey", "SecretValue1InBase64"]) expect(text).not.toContain(secret);
  });

  it("reports the polled operation like the live service and ends in Succeeded", async () => {
    const rec = recorder();
    const body = fromWire(example("ContainerGroups_CreateOrUpdate_Container_Groups_Create_With_Priority").parameters.containerGroup);
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "operation-shape", body, { ...POLL, onResponse: rec.onResponse });
    const polls = rec.responses.filter((r) => r.url.includes("/operations/"));
    expect(polls.length).toBeGreaterThan(0);
    for (const p of polls) expect(p.parsedBody).toMatchObject({ id: expect.stringContaining("/containerGroups/operation-shape"), startTime: expect.any(String), properties: { events: expect.any(Array) } });
    for (const p of polls) expect(p.parsedBody).not.toHaveProperty("endTime");
    for (const p of polls.slice(0, -1)) expect(p.parsedBody.properties.events).toEqual([]);
    expect(polls.at(-1)!.parsedBody.status).toBe("Succeeded");
    // Where the service shows events, the finished operation lists the pull (azure-cli, 2023-05-01 run of 2023-05-01).
    expect(polls.at(-1)!.parsedBody.properties.events.map((e: { name: string }) => e.name)).toEqual(["Pulling", "Pulled"]);
    // core-lro's final GET of the resource after the operation succeeded.
    expect(rec.responses.at(-1)!.method).toBe("GET");
    expect(rec.responses.at(-1)!.parsedBody.properties.provisioningState).toBe("Succeeded");
  });

  it("shows a finished Spot group like ContainerGroupsGetWithPriority", async () => {
    const ex = example("ContainerGroups_CreateOrUpdate_Container_Groups_Create_With_Priority");
    const body = fromWire(ex.parameters.containerGroup);
    body.containers[0].command = ["/bin/sh", "-c", "sleep 0.05"];
    const rec = recorder();
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "spot-demo", body, { ...POLL, onResponse: rec.onResponse });
    expect(shapeProblems(ex.responses["201"].body, rec.responses[0]!.parsedBody)).toEqual([]);
    await waitForState(t.client, "spot-demo", ["Succeeded"]);
    const get = recorder();
    await t.client.containerGroups.get(RG, "spot-demo", { onResponse: get.onResponse });
    const got = get.responses[0]!.parsedBody;
    expect(shapeProblems(example("ContainerGroups_Get_Container_Groups_Get_With_Priority").responses["200"].body, got)).toEqual([]);
    expect(specProblems(got, "ContainerGroup")).toEqual([]);
    expect(got.properties.containers[0].properties.instanceView.currentState).toMatchObject({ state: "Terminated", exitCode: 0, detailStatus: "Completed" });
    expect(got.properties.containers[0].properties.instanceView.events.map((e: any) => e.name)).toEqual(["Pulling", "Pulled", "Started"]);
  });

  it("shows a running group like ContainerGroupsGet_Succeeded", async () => {
    const ex = example("ContainerGroups_Get_Container_Groups_Get_Succeeded").responses["200"].body;
    const body = fromWire(ex);
    body.imageRegistryCredentials[0].password = "registry-password";
    body.volumes[0].azureFile.storageAccountKey = "storage-key";
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "get-succeeded", body, POLL);
    const rec = recorder();
    await t.client.containerGroups.get(RG, "get-succeeded", { onResponse: rec.onResponse });
    const got = rec.responses[0]!.parsedBody;
    expect(shapeProblems(ex, got)).toEqual([]);
    expect(specProblems(got, "ContainerGroup")).toEqual([]);
    expect(got.properties.instanceView.state).toBe("Running");
    expect(JSON.stringify(got)).not.toContain("registry-password");
    expect(JSON.stringify(got)).not.toContain("storage-key");
  });

  it("shows a group whose provisioning failed like ContainerGroupsGet_Failed", async () => {
    const ex = example("ContainerGroups_Get_Container_Groups_Get_Failed").responses["200"].body;
    t.emulator.setFaults({ capacity: { groups: ["get-failed"], mode: "async" } });
    try {
      await expect(t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "get-failed", fromWire(ex), POLL)).rejects.toThrow(/ServiceUnavailable/);
    } finally {
      t.emulator.setFaults({});
    }
    const rec = recorder();
    await t.client.containerGroups.get(RG, "get-failed", { onResponse: rec.onResponse });
    const got = rec.responses[0]!.parsedBody;
    // Allocation failed before any image was pulled: no container start time and no events yet.
    const allow = [
      "properties.containers[].properties.instanceView.currentState.startTime",
      "properties.containers[].properties.instanceView.events[]",
      "properties.instanceView.events[]",
    ];
    expect(shapeProblems(ex, got, allow)).toEqual([]);
    expect(specProblems(got, "ContainerGroup")).toEqual([]);
    expect(got.properties).toMatchObject({ provisioningState: "Failed", instanceView: { state: "Pending" } });
  });

  it("lists like ContainerGroupsList and ContainerGroupsListByResourceGroup, without instance views", async () => {
    for (const [name, list] of [
      ["ContainerGroups_List", (o: any) => t.client.containerGroups.list(o)],
      ["ContainerGroups_ListByResourceGroup", (o: any) => t.client.containerGroups.listByResourceGroup(RG, o)],
    ] as const) {
      const ex = example(name).responses["200"].body;
      const rec = recorder();
      for await (const _ of list({ onResponse: rec.onResponse })) void _;
      const page = rec.responses[0]!.parsedBody;
      // The example lists one group shaped like the one "get-succeeded" was created from.
      const mine = page.value.find((g: any) => g.name === "get-succeeded");
      expect(mine).toBeDefined();
      // The List example shows container instance views; the live service leaves them out
      // of lists (azure-rest-api-specs#21280), and so does the emulator.
      expect(shapeProblems(ex, { value: [mine] }, ["value[].properties.containers[].properties.instanceView"])).toEqual([]);
      expect(specProblems(page, "ContainerGroupListResult")).toEqual([]);
      for (const g of page.value) {
        expect(g.properties.instanceView).toBeUndefined();
        for (const c of g.properties.containers) expect(c.properties.instanceView).toBeUndefined();
      }
    }
  });

  it("updates tags like ContainerGroupsUpdate", async () => {
    const ex = example("ContainerGroups_Update");
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "update-demo", fromWire(ex.responses["200"].body), POLL);
    const rec = recorder();
    const updated = await t.client.containerGroups.update(RG, "update-demo", ex.parameters.Resource, { onResponse: rec.onResponse });
    expect(updated.tags).toEqual({ tag1key: "tag1Value", tag2key: "tag2Value" });
    expect(shapeProblems(ex.responses["200"].body, rec.responses[0]!.parsedBody)).toEqual([]);
    expect(specProblems(rec.responses[0]!.parsedBody, "ContainerGroup")).toEqual([]);
  });

  it("answers logs like ContainerListLogs", async () => {
    const rec = recorder();
    await t.client.containers.listLogs(RG, "spot-demo", "test-container-001", { tail: 10, onResponse: rec.onResponse });
    expect(rec.responses[0]!.status).toBe(200);
    expect(shapeProblems(example("Containers_ListLogs").responses["200"].body, rec.responses[0]!.parsedBody)).toEqual([]);
    expect(specProblems(rec.responses[0]!.parsedBody, "Logs")).toEqual([]);
  });

  it("stops with 204 like ContainerStop, and starts and restarts as long-running operations", async () => {
    const stop = recorder();
    await t.client.containerGroups.stop(RG, "get-succeeded", { onResponse: stop.onResponse });
    expect(stop.responses[0]!.status).toBe(204);
    expect((await t.client.containerGroups.get(RG, "get-succeeded")).instanceView?.state).toBe("Stopped");

    const start = recorder();
    await t.client.containerGroups.beginStartAndWait(RG, "get-succeeded", { ...POLL, onResponse: start.onResponse });
    expect(start.responses[0]!.status).toBe(202);
    expect(start.responses[0]!.headers.get("azure-asyncoperation")).toContain("/operations/");
    expect(start.responses.at(-1)!.parsedBody.status).toBe("Succeeded");
    await waitForState(t.client, "get-succeeded", ["Running"]);

    const restart = recorder();
    await t.client.containerGroups.beginRestartAndWait(RG, "get-succeeded", { ...POLL, onResponse: restart.onResponse });
    expect(restart.responses[0]!.status).toBe(202);
    expect(restart.responses.at(-1)!.parsedBody.status).toBe("Succeeded");
  });

  it("deletes like ContainerGroupsDelete: 200 with the group, then 204 once it is gone", async () => {
    const ex = example("ContainerGroups_Delete");
    const rec = recorder();
    await t.client.containerGroups.beginDeleteAndWait(RG, "get-succeeded", { ...POLL, onResponse: rec.onResponse });
    expect(rec.responses[0]!.status).toBe(200);
    expect(shapeProblems(ex.responses["200"].body, rec.responses[0]!.parsedBody, ["zones"])).toEqual([]);
    const again = recorder();
    await t.client.containerGroups.beginDeleteAndWait(RG, "get-succeeded", { ...POLL, onResponse: again.onResponse });
    expect(again.responses[0]!.status).toBe(204);
    await until(async () => !(await t.emulator.stats()).alive.some((g) => g.name === "get-succeeded"));
  });

  it("answers a missing group with ARM's ResourceNotFound CloudError", async () => {
    const rec = recorder();
    await expect(t.client.containerGroups.get(RG, "no-such-group", { onResponse: rec.onResponse })).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    expect(rec.responses[0]!.parsedBody).toEqual({
      error: { code: "ResourceNotFound", message: expect.stringContaining("'Microsoft.ContainerInstance/containerGroups/no-such-group' under resource group") },
    });
    expect(specProblems(rec.responses[0]!.parsedBody, "CloudError")).toEqual([]);
  });
});
