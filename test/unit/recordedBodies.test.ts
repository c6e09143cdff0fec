/**
 * Everything Burst reads from ARM, read from what the live service actually answered:
 * the recorded bodies (packages/aci-emulator/recordings/) are served by a tiny local HTTP server
 * and go through the real @azure/arm-containerinstance client and its deserializer into
 * Burst's AciBackend, exactly as in production.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AciBackend, type GroupRef } from "../../src/aci/backend.js";
import { createAciClient } from "../../src/aci/client.js";
import { PermanentLaunchError, RetryablePlatformError, ThrottledError } from "../../src/errors.js";
import { recording, type RecordedInteraction } from "@burst/aci-emulator/recordings";

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Serves whatever answer is set for "METHOD /path" (query ignored); 404 CloudError otherwise. */
let answers = new Map<string, Answer>();
let server: http.Server;
let url = "";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname.toLowerCase();
      const a = answers.get(`${req.method} ${path}`) ?? { status: 404, body: { error: { code: "ResourceNotFound", message: "not recorded" } } };
      const text = a.body === undefined ? "" : JSON.stringify(a.body);
      const headers = { ...(text ? { "content-type": "application/json; charset=utf-8" } : {}), ...a.headers };
      res.writeHead(a.status, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace(/^https:\/\/management\.azure\.com/, url)])));
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const pathOf = (uri: string) => new URL(uri).pathname.toLowerCase();
const serve = (method: string, uri: string, a: Answer) => answers.set(`${method} ${pathOf(uri)}`, a);
/** Serves a recorded answer; replayed as a GET, a PUT's 201 or a DELETE's 200 body is the group as a GET shows it. */
const serveRecorded = (i: RecordedInteraction, as?: { method?: string }) =>
  serve(as?.method ?? i.method, i.uri, { status: as?.method === "GET" ? 200 : i.status, body: i.responseBody ?? undefined, headers: as?.method ? {} : i.headers });

function refOf(uri: string): GroupRef {
  const m = /subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/containerGroups\/([^/?]+)/i.exec(uri)!;
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

const backend = () =>
  new AciBackend((subscriptionId, retries) => createAciClient({ subscriptionId, endpoint: url, clientOptions: retries ? { retryOptions: { maxRetries: 1, retryDelayInMs: 1 } } : { retryOptions: { maxRetries: 0 } } }), 4);

describe("Burst's view of recorded live answers", () => {
  it("reads a running container with no events (2023-05-01, recorded 2023-05-05)", async () => {
    answers = new Map();
    const get = recording("cli-create-regular-priority-2023-05-05.json").interactions[3]!;
    serveRecorded(get);
    const view = await backend().get(refOf(get.uri));
    expect(view).toMatchObject({
      provisioningState: "Succeeded", state: "Running", containerState: "Running",
      startTime: "2023-05-05T00:17:13.585Z", restartCount: 0, events: [], tags: {}, ports: [],
    });
    expect(view!.exitCode).toBeUndefined();
    // No Pulling event: the cost estimate must fall back to the create's acceptance.
    expect(view!.pullStartedAt).toBeUndefined();
  });

  it("takes the billing start from the Pulling event when the service shows one (recorded 2023-05-01)", async () => {
    answers = new Map();
    const get = recording("cli-create-regular-priority-2023-05-01.json").interactions.find((i) => i.method === "GET" && i.responseBody?.properties?.containers)!;
    serveRecorded(get);
    const view = await backend().get(refOf(get.uri));
    expect(view!.pullStartedAt).toBe("2023-05-01T16:44:21.000Z");
    expect(view!.events.map((e) => e.name)).toEqual(["Pulling", "Pulled", "Started"]);
  });

  it("takes the earliest Pulling event when events come newest first (2024-05-01-preview)", async () => {
    answers = new Map();
    const put = recording("cli-standbypool-2024-05-01-preview.json").interactions[0]!;
    serveRecorded(put, { method: "GET" });
    const view = await backend().get(refOf(put.uri));
    const pulls = put.responseBody.properties.containers[0].properties.instanceView.events.filter((e: { name: string }) => e.name === "Pulling");
    expect(view!.pullStartedAt).toBe(new Date(pulls[0].firstTimestamp).toISOString());
    expect(view!.events[0]!.name).toBe("Started");
  });

  it("reads a client-stopped container: Terminated, no exit code, start time from the run it ended (2019-12-01)", async () => {
    answers = new Map();
    const del = recording("py-stop-2019-12-01.json").interactions[2]!;
    serveRecorded(del, { method: "GET" });
    const view = await backend().get(refOf(del.uri));
    expect(view).toMatchObject({
      state: "Stopped", containerState: "Terminated", detailStatus: "Container stopped per client request",
      finishTime: "2020-11-25T06:17:42.687Z", startTime: "2020-11-25T06:17:10.000Z",
    });
    expect(view!.exitCode).toBeUndefined();
  });

  it("reads the main container, the IP and the FQDN of a group with an init container (azure-sdk-for-net, 2023-05-01)", async () => {
    answers = new Map();
    const rec = recording("net-create-regular-priority-2023-04-26.json");
    const done = rec.interactions.at(-1)!;
    serveRecorded(done);
    const view = await backend().get(refOf(done.uri));
    expect(view).toMatchObject({ containerState: "Running", startTime: "2023-04-26T06:09:47.253Z", ip: "23.99.82.203", fqdn: "containergrp7717.westus.azurecontainer.io", ports: [80] });
  });

  it("creates through the recorded 201 and deletes through the recorded 200 with the whole group", async () => {
    answers = new Map();
    const rec = recording("net-delete-regular-priority-2023-04-26.json");
    const [put, op, , del] = rec.interactions as RecordedInteraction[];
    serveRecorded(put!);
    serveRecorded(op!);
    serveRecorded(del!);
    serveRecorded(del!, { method: "GET" });
    const ref = refOf(put!.uri);
    expect(await backend().create(ref, { location: "westus", osType: "Linux", containers: [] })).toBe("created");
    await expect(backend().delete(ref)).resolves.toBeUndefined();
  });
});

describe("ARM errors, classified by code", () => {
  const ref = { subscriptionId: "s", resourceGroup: "rg", name: "g" };
  const put = `https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/g?api-version=2023-05-01`;
  const create = async (a: Answer) => {
    answers = new Map();
    serve("PUT", put, a);
    return backend().create(ref, { location: "eastus", osType: "Linux", containers: [] }).catch((e: unknown) => e);
  };
  const cloud = (status: number, code: string, message: string, headers?: Record<string, string>): Answer => ({ status, body: { error: { code, message } }, headers });

  it("treats the recorded NoRegisteredProviderFound (400) as the request's own fault", async () => {
    const recorded = recording("py-error-2021-03-01.json").interactions[0]!;
    const err = await create({ status: recorded.status, body: recorded.responseBody });
    expect(err).toBeInstanceOf(PermanentLaunchError);
    expect((err as PermanentLaunchError).code).toBe("NoRegisteredProviderFound");
  });

  it("sorts quota, capacity, throttling, server trouble and bad requests apart by their code", async () => {
    const quota = await create(cloud(400, "ContainerGroupQuotaReached", "Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota 'StandardCores' exceeded in region 'eastus'. Limit: '10', Usage: '10' Requested: '1'."));
    expect(quota).toBeInstanceOf(RetryablePlatformError);
    expect((quota as RetryablePlatformError).trouble).toBe("quota");
    const capacity = await create(cloud(409, "ServiceUnavailable", "The requested resource with '1' CPU and '1.5' GB memory is not available in the location 'eastus' at this moment. Please retry with a different resource request or in another location."));
    expect((capacity as RetryablePlatformError).trouble).toBe("capacity");
    const throttled = await create(cloud(429, "TooManyRequests", "throttled", { "retry-after": "17" }));
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect((throttled as ThrottledError).retryAfterSeconds).toBe(17);
    const server = await create(cloud(503, "ServiceUnavailable", "try later"));
    expect((server as RetryablePlatformError).trouble).toBe("transient");
    const image = await create(cloud(400, "InaccessibleImage", "The image 'x' in container group 'g' is not accessible."));
    expect(image).toBeInstanceOf(PermanentLaunchError);
  });

  it("never reads the message: a bad request that talks about quota and capacity stays a bad request", async () => {
    const err = await create(cloud(400, "InvalidRequestContent", "quota capacity is not available in the location; ServiceUnavailable"));
    expect(err).toBeInstanceOf(PermanentLaunchError);
  });
});
