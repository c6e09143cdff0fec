import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../src/config.js";
import { armUrl, group, http, POLL, RG, startTestEmulator, SUB, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator({ runtime: "sim" });
});
beforeEach(async () => {
  await t.emulator.reset();
  t.emulator.setLimits(DEFAULT_LIMITS);
});
afterAll(async () => {
  await t.emulator.close();
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const create = (name: string, body = group({ command: sh("sleep 60") })) => t.client.containerGroups.beginCreateOrUpdateAndWait(RG, name, body, POLL);

describe("quotas", () => {
  it("refuses a container group over the per-region group quota with ACI's message", async () => {
    t.emulator.setLimits({ containerGroupsPerRegion: 2 });
    await create("q1");
    await create("q2");
    const err = await create("q3").catch((e) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "ContainerGroupQuotaReached" });
    expect(err.message).toBe(
      "Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'ContainerGroups' exceeded in region 'eastus'. Limit: '2', Usage: '2' Requested: '1'.",
    );
    await create("q3-west", group({ command: sh("sleep 60"), location: "westus" }));
    // Stopped groups still exist, so they still count.
    await t.client.containerGroups.stop(RG, "q1");
    await expect(create("q4")).rejects.toMatchObject({ code: "ContainerGroupQuotaReached" });
  });

  it("refuses a group over the per-region standard cores quota; stopped groups give their cores back", async () => {
    t.emulator.setLimits({ standardCoresPerRegion: 3 });
    await create("c1", group({ command: sh("sleep 60"), cpu: 2 }));
    const err = await create("c2", group({ command: sh("sleep 60"), cpu: 1.5 })).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "ContainerGroupQuotaReached" });
    expect(err.message).toBe(
      "Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'StandardCores' exceeded in region 'eastus'. Limit: '3', Usage: '2' Requested: '1.5'.",
    );
    await t.client.containerGroups.stop(RG, "c1");
    await create("c2", group({ command: sh("sleep 60"), cpu: 1.5 }));
  });

  it("reports usage against the quotas through the location usages API", async () => {
    await create("u1", group({ command: sh("sleep 60"), cpu: 2 }));
    await create("u2", group({ command: sh("sleep 60"), cpu: 0.5 }));
    const usage: Record<string, [number | undefined, number | undefined]> = {};
    for await (const u of t.client.location.listUsage("eastus")) usage[u.name!.value!] = [u.currentValue, u.limit];
    expect(usage).toEqual({ ContainerGroups: [2, 100], StandardCores: [3, 100] });
  });

  it("rejects a group above the per-group maximum of 31 vCPU / 240 GB, and 4 vCPU / 16 GB for Spot", async () => {
    await expect(create("huge", group({ command: sh("true"), cpu: 32 }))).rejects.toMatchObject({ statusCode: 400, code: "ResourceRequestsExceedMaximum" });
    await expect(create("fat", group({ command: sh("true"), memoryInGB: 241 }))).rejects.toMatchObject({ statusCode: 400 });
    await create("max", group({ command: sh("true"), cpu: 31, memoryInGB: 240 }));
    const spot = await create("spot", group({ command: sh("true"), cpu: 5, priority: "Spot" })).catch((e) => e);
    expect(spot).toMatchObject({ statusCode: 400, code: "ResourceRequestsExceedMaximum" });
    expect(spot.message).toContain("'4' CPU, '16' GB memory");
    await create("spot-ok", group({ command: sh("true"), cpu: 4, memoryInGB: 16, priority: "Spot" }));
  });

  it("rejects a Spot group with a public IP address", async () => {
    await expect(create("spot-ip", group({ command: sh("true"), priority: "Spot", ports: [80] }))).rejects.toMatchObject({
      statusCode: 400,
      code: "SpotPriorityContainerGroupNotSupportedForInboundConnectivity",
    });
  });
});

describe("invalid requests", () => {
  it("answers a body that does not fit the schema with 400 InvalidRequestContent naming the field", async () => {
    const noCpu = await http(armUrl(t.emulator, "bad"), "PUT", {
      location: "eastus",
      properties: { osType: "Linux", containers: [{ name: "main", properties: { image: "alpine", resources: { requests: { memoryInGB: 1 } } } }] },
    });
    expect(noCpu.status).toBe(400);
    expect(noCpu.json.error.code).toBe("InvalidRequestContent");
    expect(noCpu.json.error.message).toBe(
      "The request content was invalid and could not be deserialized: properties.containers.0.properties.resources.requests.cpu: is required",
    );

    const badPolicy = await http(armUrl(t.emulator, "bad"), "PUT", {
      location: "eastus",
      properties: { osType: "Linux", restartPolicy: "Sometimes", containers: [{ name: "main", properties: { image: "alpine", command: ["true"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }] },
    });
    expect(badPolicy.json.error.message).toContain("must be one of 'Always', 'OnFailure', 'Never' (got 'Sometimes')");

    const notJson = await fetch(armUrl(t.emulator, "bad"), { method: "PUT", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe("InvalidRequestContent");
    expect(t.emulator.stats().counts.creates).toBe(0);
  });

  it("rejects an invalid group name and a missing api-version", async () => {
    expect((await http(armUrl(t.emulator, "Not_Valid"), "PUT", {})).json.error.code).toBe("InvalidResourceName");
    const noVersion = await http(armUrl(t.emulator, "x").replace("?api-version=2023-05-01", ""));
    expect(noVersion.status).toBe(400);
    expect(noVersion.json.error.code).toBe("MissingApiVersionParameter");
  });

  it("fails an image it cannot run with InaccessibleImage", async () => {
    const err = await create("private", group({ image: "myregistry.azurecr.io/private/app:1" })).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "InaccessibleImage" });
    expect(err.message).toContain("The image 'myregistry.azurecr.io/private/app:1' in container group 'private' is not accessible.");
  });
});

describe("throttling", () => {
  it("limits creates per region over five minutes and answers 429 with Retry-After and ACI's headers", async () => {
    t.emulator.setLimits({ creates: { per5Min: 2 } });
    const body = { location: "eastus", properties: { osType: "Linux", containers: [{ name: "main", properties: { image: "alpine", command: ["true"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }] } };
    const first = await http(armUrl(t.emulator, "w1"), "PUT", body);
    expect(first.status).toBe(201);
    expect(first.headers.get("x-ms-ratelimit-remaining-subscription-resource-requests-pt5m")).toBe("1");
    expect(first.headers.get("x-ms-ratelimit-remaining-subscription-resource-requests-pt1h")).toBe("299");
    expect((await http(armUrl(t.emulator, "w2"), "PUT", body)).status).toBe(201);
    const third = await http(armUrl(t.emulator, "w3"), "PUT", body);
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe("TooManyRequests");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(290);
    // Another region has its own window; updates are not creates.
    expect((await http(armUrl(t.emulator, "w3"), "PUT", { ...body, location: "westus" })).status).toBe(201);
    expect(t.emulator.stats().counts.throttled.createWindow).toBe(1);
  });

  it("limits deletes per region the same way", async () => {
    t.emulator.setLimits({ deletes: { per5Min: 1 } });
    await create("d1");
    await create("d2");
    await t.client.containerGroups.beginDeleteAndWait(RG, "d1");
    const second = await http(armUrl(t.emulator, "d2"), "DELETE");
    expect(second.status).toBe(429);
    expect(t.emulator.stats().counts.throttled.deleteWindow).toBe(1);
  });

  it("throttles reads with ARM's token bucket, and the SDK's retry policy recovers from the 429", async () => {
    await create("r1");
    t.emulator.setLimits({ armThrottling: { reads: { capacity: 2, refillPerSecond: 2 } } });
    const seen: number[] = [];
    const onResponse = (r: { status: number }) => void seen.push(r.status);
    for (let i = 0; i < 4; i++) await t.client.containerGroups.get(RG, "r1", { onResponse });
    expect(seen).toEqual([200, 200, 200, 200]);
    expect(t.emulator.stats().counts.throttled.reads).toBeGreaterThan(0);
  });

  it("sends ARM's remaining-requests headers and Retry-After on a throttled write", async () => {
    t.emulator.setLimits({ armThrottling: { writes: { capacity: 1, refillPerSecond: 0.001 } } });
    await t.emulator.reset();
    const body = { location: "eastus", properties: { osType: "Linux", containers: [{ name: "main", properties: { image: "alpine", command: ["true"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }] } };
    const ok = await http(armUrl(t.emulator, "h1"), "PUT", body);
    expect(ok.headers.get("x-ms-ratelimit-remaining-subscription-writes")).toBe("0");
    const throttled = await http(armUrl(t.emulator, "h2"), "PUT", body);
    expect(throttled.status).toBe(429);
    expect(throttled.json.error.code).toBe("SubscriptionRequestsThrottled");
    expect(throttled.json.error.message).toContain(`Number of 'write' requests for subscription '${SUB}' actions exceeded.`);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    const read = await http(armUrl(t.emulator, "h1"));
    expect(Number(read.headers.get("x-ms-ratelimit-remaining-subscription-reads"))).toBe(249);
  });

  it("can switch ARM throttling off", async () => {
    t.emulator.setLimits({ armThrottling: { enabled: false, reads: { capacity: 1, refillPerSecond: 0 } } });
    await create("off");
    for (let i = 0; i < 5; i++) await t.client.containerGroups.get(RG, "off");
    const res = await http(armUrl(t.emulator, "off"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ms-ratelimit-remaining-subscription-reads")).toBeNull();
    expect(t.emulator.stats().counts.throttled.total).toBe(0);
  });
});

describe("limits admin API", () => {
  it("reads and merges limits over HTTP, refusing bad values with the field and value", async () => {
    const put = await http(`${t.emulator.url}/_emulator/limits`, "PUT", { listPageSize: 7, creates: { perHour: 50 } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ listPageSize: 7, creates: { per5Min: 100, perHour: 50 }, containerGroupsPerRegion: 100 });
    const bad = await http(`${t.emulator.url}/_emulator/limits`, "PUT", { listPageSize: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("listPageSize");
    expect(bad.json.error.message).toContain("(got -1)");
    expect((await http(`${t.emulator.url}/_emulator/limits`)).json.listPageSize).toBe(7);
  });
});
