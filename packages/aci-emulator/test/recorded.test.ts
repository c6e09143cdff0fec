/**
 * Conformance with what the live service answered: HTTP recordings made by Microsoft's own
 * test suites (recordings/, sources in its README). Each test replays a
 * recorded request over the wire, byte for byte, and compares the emulator's answer with
 * the recorded one field by field. Only what differs per run is masked: times, IP
 * addresses, and (where the emulator maps them to reachable local ports) port numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../src/index.js";
import { FAST, until } from "./helpers.js";
import { recording, type RecordedInteraction } from "../src/recordings.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Masks what differs between runs; `drop` removes keys the recordings themselves disagree on. */
function normalize(v: unknown, opts: { drop?: string[]; ports?: boolean } = {}, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, opts, key));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (opts.drop?.includes(k)) continue;
      out[k] = normalize(x, opts, k);
    }
    return out;
  }
  if (typeof v === "string" && ISO.test(v)) return "<time>";
  if (key === "ip") return "<ip>";
  if (key === "port" && opts.ports) return "<port>";
  return v;
}

let emulator: RunningEmulator;
beforeAll(async () => {
  // The process runtime: the recorded commands (`while true; …`) run as they are. Default fidelity.
  emulator = await startEmulator({ runtime: "process", timings: FAST });
});
afterAll(async () => {
  await emulator.close();
});

/** Sends a recorded request to the emulator: same method, path, query and body. */
async function replay(i: RecordedInteraction): Promise<{ status: number; headers: Headers; body: any }> {
  const u = new URL(i.uri);
  return send(i.method, `${emulator.url}${u.pathname}${u.search}`, i.requestBody);
}

async function send(method: string, url: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url, { method, headers: { "content-type": "application/json" }, body: body === null || body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

const local = (recordedUrl: string) => {
  const u = new URL(recordedUrl);
  return `${emulator.url}${u.pathname}${u.search}`;
};

/** Polls the operation a PUT pointed at until it ends; returns every body seen. */
async function followOperation(header: string): Promise<any[]> {
  const seen: any[] = [];
  await until(async () => {
    const r = await send("GET", header.replace(/^http:\/\/[^/]+/, emulator.url));
    expect(r.status).toBe(200);
    seen.push(r.body);
    return ["Succeeded", "Failed", "Canceled"].includes(r.body.status);
  }, 20_000, "the operation to end");
  return seen;
}

const ratelimitHeaders = (h: Headers | Record<string, string>) =>
  [...(h instanceof Headers ? h.keys() : Object.keys(h))].filter((k) => k.startsWith("x-ms-ratelimit-remaining-subscription")).sort();

describe("answers like the live service at api-version 2023-05-01 (azure-cli, recorded 2023-05-05)", () => {
  const rec = recording("cli-create-regular-priority-2023-05-05.json");
  const [put, , opDone, running, , , logs, del] = rec.interactions as RecordedInteraction[];

  it("replays create, operation, get, logs and delete with the recorded bodies field by field", async () => {
    const created = await replay(put!);
    expect(created.status).toBe(put!.status);
    expect(normalize(created.body)).toEqual(normalize(put!.responseBody));
    // The operation URL's api-version is 2018-06-01, not the resource's.
    const op = created.headers.get("azure-asyncoperation")!;
    expect(new URL(op).pathname).toBe(new URL(put!.headers["azure-asyncoperation"]!).pathname.replace(/[0-9a-f-]{36}$/, new URL(op).pathname.slice(-36)));
    expect(new URL(op).searchParams.get("api-version")).toBe("2018-06-01");
    expect(created.headers.get("x-ms-request-id")).toBe(`westus:${new URL(op).pathname.slice(-36)}`);
    expect(ratelimitHeaders(created.headers)).toEqual(ratelimitHeaders(put!.headers));

    const polls = await followOperation(op);
    // Pending, then Succeeded: no Creating, no endTime, and no events at this version.
    expect(new Set(polls.map((p) => p.status))).toEqual(new Set(polls.length > 1 ? ["Pending", "Succeeded"] : ["Succeeded"]));
    for (const p of polls) expect(Object.keys(p).sort()).toEqual(Object.keys(opDone!.responseBody).sort());
    expect(normalize(polls.at(-1))).toEqual(normalize(opDone!.responseBody));

    const got = await until(async () => {
      const r = await replay(running!);
      return r.body.properties.containers[0].properties.instanceView?.currentState.state === "Running" ? r : undefined;
    }, 10_000, "the container to run");
    expect(got.status).toBe(200);
    // The container's instance view is {restartCount, currentState}: no events key.
    expect(normalize(got.body)).toEqual(normalize(running!.responseBody));
    expect(got.headers.get("x-ms-request-id")).toMatch(/^westus:[0-9a-f-]{36}$/);

    const log = await until(async () => {
      const r = await replay(logs!);
      return r.body.content ? r : undefined;
    }, 10_000, "the first log line");
    expect(Object.keys(log.body)).toEqual(Object.keys(logs!.responseBody));
    expect(log.body.content).toMatch(/^(hello\n)+$/);

    const deleted = await replay(del!);
    expect(deleted.status).toBe(200);
    // DELETE answers with the whole group, container instance views included, as it was.
    expect(normalize(deleted.body)).toEqual(normalize(del!.responseBody));
    expect(ratelimitHeaders(deleted.headers)).toEqual(["x-ms-ratelimit-remaining-subscription-deletes", ...ratelimitHeaders(del!.headers).filter((h) => h.includes("resource-requests"))].sort());
  });
});

describe("answers like the live service with init containers and a public IP (azure-sdk-for-net, recorded 2023-04-26)", () => {
  const rec = recording("net-create-regular-priority-2023-04-26.json");
  const [put, , opDone, done] = rec.interactions as RecordedInteraction[];

  it("echoes the PUT without an IP, adds the domain label scope, runs the init container first, then shows the IP", async () => {
    const created = await replay(put!);
    expect(created.status).toBe(201);
    expect(normalize(created.body)).toEqual(normalize(put!.responseBody));
    expect(created.body.properties.ipAddress).not.toHaveProperty("ip");
    expect(created.headers.get("x-ms-request-id")).toBe(`westus:${created.headers.get("azure-asyncoperation")!.split("/operations/")[1]!.split("?")[0]}`);

    const polls = await followOperation(created.headers.get("azure-asyncoperation")!);
    expect(polls.at(-1).status).toBe("Succeeded");
    expect(Object.keys(polls.at(-1)).sort()).toEqual(Object.keys(opDone!.responseBody).sort());

    const got = await send("GET", local(done!.uri));
    // The recordings disagree on container events (see the fidelity tests); everything else must match.
    expect(normalize(got.body, { drop: ["events"], ports: true })).toEqual(normalize(done!.responseBody, { drop: ["events"], ports: true }));
    const init = got.body.properties.initContainers[0].properties.instanceView;
    expect(init.currentState).toMatchObject({ state: "Terminated", exitCode: 0, detailStatus: "Completed" });
    const main = got.body.properties.containers[0].properties.instanceView;
    expect(Date.parse(main.currentState.startTime)).toBeGreaterThanOrEqual(Date.parse(init.currentState.finishTime));
    expect(got.body.properties.ipAddress.ip).toEqual(expect.any(String));
    await send("DELETE", local(done!.uri));
  });
});

describe("a group stopped by its client (azure-sdk-for-python, api-version 2019-12-01)", () => {
  const rec = recording("py-stop-2019-12-01.json");
  const [, stop, del] = rec.interactions as RecordedInteraction[];
  const put = recording("cli-create-regular-priority-2023-05-05.json").interactions[0]!;

  it("leaves the container Terminated without exit code or start time, with its run as the previous state", async () => {
    const url = local(put.uri).replace("clicontainer000002?", "stopped?");
    const body = JSON.parse(JSON.stringify(put.requestBody).replaceAll("clicontainer000002", "stopped"));
    const created = await send("PUT", url, body);
    await followOperation(created.headers.get("azure-asyncoperation")!);
    await until(async () => (await send("GET", url)).body.properties.containers[0].properties.instanceView?.currentState.state === "Running", 10_000, "running");

    const stopped = await send("POST", url.replace("stopped?", "stopped/stop?"));
    expect(stopped.status).toBe(stop!.status);
    const deleted = await send("DELETE", url);
    const mine = deleted.body.properties.containers[0].properties.instanceView;
    const theirs = del!.responseBody.properties.containers[0].properties.instanceView;
    expect(normalize(mine.currentState)).toEqual(normalize(theirs.currentState));
    expect(normalize(mine.previousState)).toEqual(normalize(theirs.previousState));
    expect(mine.restartCount).toBe(theirs.restartCount);
    expect(deleted.body.properties.instanceView).toEqual(del!.responseBody.properties.instanceView);
  });
});

describe("container events, as each recording shows them", () => {
  const body = (_name: string) => ({
    location: "westus",
    properties: {
      osType: "Linux", restartPolicy: "Never",
      containers: [{ name: "c", properties: { image: "alpine", command: ["/bin/sh", "-c", "sleep 30"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }],
    },
  });
  const url = (name: string) => `${emulator.url}/subscriptions/s/resourceGroups/events/providers/Microsoft.ContainerInstance/containerGroups/${name}?api-version=2023-05-01`;
  const containerView = async (name: string) => (await send("GET", url(name))).body.properties.containers[0].properties.instanceView;
  const run = async (name: string) => {
    await send("PUT", url(name), body(name));
    await until(async () => (await containerView(name))?.currentState.state === "Running", 10_000, "running");
  };

  it("shows Pulling, Pulled and Started in time order when present (azure-cli, recorded 2023-05-01)", async () => {
    const live = recording("cli-create-regular-priority-2023-05-01.json").interactions.find((i) => i.method === "GET" && i.responseBody?.properties?.containers)!;
    emulator.setFidelity({ containerEvents: "present" });
    try {
      await run("present");
      const mine = await containerView("present");
      const theirs = live.responseBody.properties.containers[0].properties.instanceView;
      expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      expect(mine.events.map((e: { name: string }) => e.name)).toEqual(theirs.events.map((e: { name: string }) => e.name));
      expect(Object.keys(mine.events[0]).sort()).toEqual(Object.keys(theirs.events[0]).sort());
    } finally {
      emulator.setFidelity({ containerEvents: "absent" });
      await send("DELETE", url("present"));
    }
  });

  it("shows events only after a delay and newest first when late (azure-cli standby pool, 2024-05-01-preview)", async () => {
    const live = recording("cli-standbypool-2024-05-01-preview.json").interactions[0]!;
    const order = live.responseBody.properties.containers[0].properties.instanceView.events.map((e: { name: string }) => e.name);
    // The recording itself lists the newest first.
    expect(order.lastIndexOf("Started")).toBeLessThan(order.indexOf("Pulled"));
    expect(order.indexOf("Pulled")).toBeLessThan(order.indexOf("Pulling"));
    emulator.setFidelity({ containerEvents: "late", lateEventsMs: 1500 });
    try {
      await run("late");
      const early = await containerView("late");
      // The container already runs, and the events key is there, but not yet its events.
      expect(early.currentState.state).toBe("Running");
      expect(early.events).toEqual([]);
      const later = await until(async () => {
        const v = await containerView("late");
        return v.events.length === 3 ? v : undefined;
      }, 10_000, "the events to show up");
      expect(later.events.map((e: { name: string }) => e.name)).toEqual(["Started", "Pulled", "Pulling"]);
    } finally {
      emulator.setFidelity({ containerEvents: "absent" });
      await send("DELETE", url("late"));
    }
  });

  it("reports Creating on the operation while pulling when asked to, as the 2019-12-01 service did", async () => {
    const live = recording("py-stop-2019-12-01.json");
    expect(live.source.path).toContain("test_cli_mgmt_containerinstance");
    emulator.setFidelity({ operationCreating: true });
    emulator.setTimings({ pullDelayMs: 800 });
    try {
      const created = await send("PUT", url("creating"), body("creating"));
      const polls = await followOperation(created.headers.get("azure-asyncoperation")!);
      const statuses = polls.map((p) => p.status).filter((s, i, a) => a.indexOf(s) === i);
      // A first poll that lands before the pull starts (a loaded machine) still sees Pending, and only first.
      expect(statuses.indexOf("Pending")).toBeLessThanOrEqual(0);
      const pulling = statuses.filter((s) => s !== "Pending");
      expect(pulling).toEqual(["Creating", "Succeeded"].filter((s) => pulling.includes(s)));
      expect(statuses).toContain("Creating");
    } finally {
      emulator.setFidelity({ operationCreating: false });
      emulator.setTimings(FAST);
      await send("DELETE", url("creating"));
    }
  });
});
