import { createAciClient } from "./client.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { armUrl, group, http, POLL, RG, startTestEmulator, SUB, until, waitForState, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
beforeAll(async () => {
  // These tests read the events the service can show; the default (absent) is tested in recorded.test.ts.
  t = await startTestEmulator({ runtime: "sim", fidelity: { containerEvents: "present" } });
});
beforeEach(async () => {
  t.emulator.setFaults({});
  await t.emulator.reset();
});
afterAll(async () => {
  await t.emulator.close();
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const create = (name: string, body = group({ command: sh("sleep 60") })) => t.client.containerGroups.beginCreateOrUpdateAndWait(RG, name, body, POLL);
const rawBody = { location: "eastus", properties: { osType: "Linux", containers: [{ name: "main", properties: { image: "alpine", command: ["sleep", "60"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }] } };

describe("injected capacity errors", () => {
  it("fails creates in a chosen region with ACI's capacity error while other regions work", async () => {
    t.emulator.setFaults({ capacity: { regions: ["West Europe"] } });
    const err = await create("cap", group({ command: sh("true"), location: "westeurope", cpu: 2, memoryInGB: 3.5 })).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 409, code: "ServiceUnavailable" });
    expect(err.message).toBe(
      "The requested resource with '2' CPU and '3.5' GB memory is not available in the location 'westeurope' at this moment. Please retry with a different resource request or in another location.",
    );
    await create("cap", group({ command: sh("true"), location: "northeurope" }));
    expect(t.emulator.stats().counts.creates).toBe(1);
  });

  it("can fail the operation instead of the PUT, leaving a group with provisioningState Failed", async () => {
    t.emulator.setFaults({ capacity: { groups: ["late-*"], mode: "async" } });
    await expect(create("late-1")).rejects.toThrow(/The long-running operation has failed\. ServiceUnavailable\. The requested resource with '1' CPU/);
    const g = await t.client.containerGroups.get(RG, "late-1");
    expect(g.provisioningState).toBe("Failed");
    expect(t.emulator.stats().billing[0]).toMatchObject({ billedSeconds: 0, intervals: [] });
    await create("on-time");
  });
});

describe("injected Spot capacity shortage in one region", () => {
  it("refuses a Spot create in that region but accepts a Regular create there and a Spot create elsewhere", async () => {
    t.emulator.setFaults({ capacity: { regions: ["East US"], priority: "Spot" } });
    const err = await create("spot-east", group({ command: sh("sleep 60"), location: "eastus", priority: "Spot" })).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 409, code: "ServiceUnavailable" });
    expect(err.message).toContain("is not available in the location 'eastus' at this moment");
    expect((await create("regular-east", group({ command: sh("sleep 60"), location: "eastus" }))).provisioningState).toBe("Succeeded");
    expect((await create("spot-west", group({ command: sh("sleep 60"), location: "westeurope", priority: "Spot" }))).provisioningState).toBe("Succeeded");
    expect(t.emulator.stats().counts.creates).toBe(2);
  });

  it("shows the priority where the emulator reports its faults, and explains a bad one", async () => {
    const put = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { capacity: { regions: ["West Europe"], priority: "Spot" } });
    expect(put.json.capacity).toMatchObject({ regions: ["westeurope"], priority: "Spot" });
    expect((await http(`${t.emulator.url}/_emulator/faults`)).json.capacity.priority).toBe("Spot");
    const bad = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { capacity: { regions: ["eastus"], priority: "spot" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid faults: capacity.priority: expected "Regular" or "Spot" (or null for both) (got "spot")');
    expect((await http(`${t.emulator.url}/_emulator/faults`, "PUT", {})).json.capacity.priority).toBeNull();
  });
});

describe("retrying a failed create", () => {
  it("provisions again when the same PUT is repeated after the capacity came back", async () => {
    t.emulator.setFaults({ capacity: { groups: ["retry-me"], mode: "async" } });
    const body = group({ command: sh("sleep 60") });
    await expect(create("retry-me", body)).rejects.toThrow(/ServiceUnavailable/);
    t.emulator.setFaults({});
    const retried = await create("retry-me", body);
    expect(retried.provisioningState).toBe("Succeeded");
    await waitForState(t.client, "retry-me", ["Running"]);
    expect(t.emulator.stats().counts).toMatchObject({ creates: 1, updates: 1, idempotentPuts: 0 });
  });
});

describe("injected HTTP errors", () => {
  it("answers a seeded fraction of calls with 500/503 and the SDK's retries still get through", async () => {
    await create("flaky-api");
    t.emulator.setFaults({ seed: 7, httpErrors: { rate: 0.3 } });
    // Patient enough that 30% errors cannot outlast it.
    const client = createAciClient({ subscriptionId: SUB, endpoint: t.emulator.url, clientOptions: { retryOptions: { maxRetries: 10, retryDelayInMs: 5, maxRetryDelayInMs: 20 } } });
    for (let i = 0; i < 20; i++) expect((await client.containerGroups.get(RG, "flaky-api")).name).toBe("flaky-api");
    expect(t.emulator.stats().counts.injectedErrors).toBeGreaterThan(0);
  });

  it("replays the same errors for the same seed", async () => {
    await create("replay");
    const statuses = async () => {
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await http(armUrl(t.emulator, "replay"))).status);
      return out;
    };
    t.emulator.setFaults({ seed: 11, httpErrors: { rate: 0.4 } });
    const first = await statuses();
    t.emulator.setFaults({ seed: 11, httpErrors: { rate: 0.4 } });
    const second = await statuses();
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500, 503]));
    t.emulator.setFaults({ seed: 12, httpErrors: { rate: 0.4 } });
    expect(await statuses()).not.toEqual(first);
  });

  it("can lose the response of a call that took effect", async () => {
    t.emulator.setFaults({ httpErrors: { lostResponseRate: 1 } });
    const res = await http(armUrl(t.emulator, "lost"), "PUT", rawBody);
    expect(res.status).toBe(500);
    t.emulator.setFaults({});
    expect((await t.client.containerGroups.get(RG, "lost")).name).toBe("lost");
    expect(t.emulator.stats().counts).toMatchObject({ creates: 1, lostResponses: 1 });
  });
});

describe("injected throttling storm", () => {
  it("throttles every call for a while, and the SDK's retry policy rides it out", async () => {
    await create("storm");
    t.emulator.setFaults({ throttleStorm: { durationMs: 1200, retryAfterSeconds: 1 } });
    const during = await http(armUrl(t.emulator, "storm"));
    expect(during.status).toBe(429);
    expect(during.headers.get("retry-after")).toBe("1");
    expect((await t.client.containerGroups.get(RG, "storm")).name).toBe("storm");
    expect(t.emulator.stats().counts.throttled.storm).toBeGreaterThanOrEqual(2);
  });
});

describe("injected slow provisioning", () => {
  it("keeps a targeted group pulling while others are already running", async () => {
    t.emulator.setFaults({ slowProvisioning: { groups: ["slow"], extraMs: 5000 } });
    const slow = await t.client.containerGroups.beginCreateOrUpdate(RG, "slow", group({ command: sh("sleep 60") }), POLL);
    await create("fast");
    const g = await t.client.containerGroups.get(RG, "slow");
    expect(g.provisioningState).toBe("Creating");
    expect(g.containers[0]!.instanceView?.events?.map((e) => e.name)).toEqual(["Pulling"]);
    expect(slow.isDone()).toBe(false);
    // Billing runs from the start of the pull, slow or not.
    expect(t.emulator.stats().billing.find((b) => b.name === "slow")!.running).toBe(true);
  });
});

describe("injected platform restarts", () => {
  it("restarts a running container despite restartPolicy Never, with a Killing/Started trail", async () => {
    t.emulator.setFaults({ platformRestart: { groups: ["victim"], afterMs: 50 } });
    await create("victim", group({ command: sh("echo run; sleep 60"), restartPolicy: "Never" }));
    const g = await until(async () => {
      const x = await t.client.containerGroups.get(RG, "victim");
      const view = x.containers[0]!.instanceView!;
      return view.restartCount === 1 && view.currentState?.state === "Running" ? x : undefined;
    });
    const view = g.containers[0]!.instanceView!;
    expect(g.instanceView?.state).toBe("Running");
    expect(view.previousState).toMatchObject({ state: "Terminated", detailStatus: "Killed" });
    const byName = Object.fromEntries(view.events!.map((e) => [e.name, e.count]));
    expect(byName).toMatchObject({ Killing: 1, Started: 2 });
    expect(view.events!.map((e) => e.name)).toEqual(["Pulling", "Pulled", "Started", "Killing"]);
    // Both runs wrote to the same container log.
    expect((await t.client.containers.listLogs(RG, "victim", "main")).content).toBe("run\nrun\n");
  });

  it("restarts a container on demand through the admin API", async () => {
    await create("poke");
    const res = await http(`${t.emulator.url}/_emulator/groups/${SUB}/${RG}/poke/platform-restart?container=main`, "POST");
    expect(res.json).toEqual({ restarted: true });
    await until(async () => (await t.client.containerGroups.get(RG, "poke")).containers[0]!.instanceView?.restartCount === 1);
  });

  it("hits a seeded fraction of new groups when given a rate", async () => {
    t.emulator.setFaults({ seed: 3, platformRestart: { rate: 0.5, afterMs: 20 } });
    for (let i = 0; i < 8; i++) await create(`r${i}`);
    const restarted = async () => {
      let n = 0;
      for (let i = 0; i < 8; i++) if ((await t.client.containerGroups.get(RG, `r${i}`)).containers[0]!.instanceView!.restartCount! > 0) n++;
      return n;
    };
    const n = await until(async () => {
      const first = await restarted();
      await new Promise((r) => setTimeout(r, 200));
      return first > 0 && first === (await restarted()) ? first : 0;
    });
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(8);
  });
});

describe("injected Spot evictions", () => {
  it("evicts a Spot group, stops billing, and restarts it automatically", async () => {
    t.emulator.setFaults({ spotEviction: { groups: ["spotty"], afterMs: 50 } });
    await create("spotty", group({ command: sh("echo up; sleep 60"), priority: "Spot" }));
    const g = await until(async () => {
      const x = await t.client.containerGroups.get(RG, "spotty");
      const view = x.containers[0]!.instanceView!;
      return view.restartCount === 1 && view.currentState?.state === "Running" ? x : undefined;
    });
    expect(g.instanceView?.events?.map((e) => [e.name, e.type])).toEqual([["SpotEviction", "Warning"]]);
    expect(g.containers[0]!.instanceView!.previousState).toMatchObject({ state: "Terminated", detailStatus: "Evicted" });
    const pulling = g.containers[0]!.instanceView!.events!.find((e) => e.name === "Pulling")!;
    expect(pulling.count).toBe(2);
    const meter = t.emulator.stats().billing.find((b) => b.name === "spotty")!;
    expect(meter.intervals).toHaveLength(2);
    expect(meter.intervals[0]!.end).not.toBeNull();
    expect(meter.running).toBe(true);
  });

  it("evicts on demand through the admin API, and refuses for a Regular group", async () => {
    await create("spot-now", group({ command: sh("sleep 60"), priority: "Spot" }));
    expect((await http(`${t.emulator.url}/_emulator/groups/${SUB}/${RG}/spot-now/evict`, "POST")).json).toEqual({ evicted: true });
    expect((await t.client.containerGroups.get(RG, "spot-now")).instanceView?.state).toBe("Pending");
    await waitForState(t.client, "spot-now", ["Running"]);
    await create("regular");
    const refused = await http(`${t.emulator.url}/_emulator/groups/${SUB}/${RG}/regular/evict`, "POST");
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe("ContainerGroupNotSpot");
  });
});

describe("injected Spot evictions in one region", () => {
  it("evicts a Spot group in that region and leaves a Spot group in another region running", async () => {
    t.emulator.setFaults({ spotEviction: { regions: ["East US"], rate: 1, afterMs: 50 } });
    // The other region's group starts first: had it been targeted, its eviction would come before the one awaited below.
    await create("spot-west", group({ command: sh("sleep 60"), location: "westeurope", priority: "Spot" }));
    await waitForState(t.client, "spot-west", ["Running"]);
    await create("spot-east", group({ command: sh("sleep 60"), location: "eastus", priority: "Spot" }));
    const east = await until(async () => {
      const x = await t.client.containerGroups.get(RG, "spot-east");
      const view = x.containers[0]!.instanceView!;
      return view.restartCount === 1 && view.currentState?.state === "Running" ? x : undefined;
    }, 10_000, "spot-east to be evicted and running again");
    expect(east.instanceView?.events?.map((e) => e.name)).toEqual(["SpotEviction"]);
    const west = await t.client.containerGroups.get(RG, "spot-west");
    expect(west.instanceView?.state).toBe("Running");
    expect(west.instanceView?.events ?? []).toEqual([]);
    expect(west.containers[0]!.instanceView!.restartCount).toBe(0);
    expect(t.emulator.stats().billing.find((b) => b.name === "spot-west")!.intervals).toHaveLength(1);
  });

  it("refuses a region list that names no groups and gives no rate, since it would evict nothing", async () => {
    const bad = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { spotEviction: { regions: ["eastus"] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("spotEviction.regions: regions only narrows which Spot groups are evicted");
    const ok = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { spotEviction: { regions: ["East US"], groups: ["job-*"] } });
    expect(ok.json.spotEviction).toMatchObject({ regions: ["eastus"], groups: ["job-*"] });
  });
});

describe("fault admin API", () => {
  it("replaces the fault configuration over HTTP and explains a bad one", async () => {
    const put = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { inaccessibleImages: ["alpine*"], throttleStorm: { durationMs: 0 } });
    expect(put.status).toBe(200);
    expect(put.json.inaccessibleImages).toEqual(["alpine*"]);
    await expect(create("blocked")).rejects.toMatchObject({ statusCode: 400, code: "InaccessibleImage" });
    const bad = await http(`${t.emulator.url}/_emulator/faults`, "PUT", { httpErrors: { rate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("httpErrors.rate");
    expect((await http(`${t.emulator.url}/_emulator/faults`)).json.inaccessibleImages).toEqual(["alpine*"]);
    expect((await http(`${t.emulator.url}/_emulator/faults`, "PUT", {})).json.inaccessibleImages).toEqual([]);
  });
});
