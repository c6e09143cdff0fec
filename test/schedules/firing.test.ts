/**
 * Schedules against real Table storage (the shared Azurite) with an injected clock:
 * three instances — each with its own storage clients, as three hosts have — check the
 * same schedules at the same moments, many calls at once. Their clock is years ahead of
 * the one host's (which runs the jobs), so the host's own schedule timer never finds a
 * tick due; each run sleeps, so it stays alive until the test cancels it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import type { Deps } from "../../src/scheduler/deps.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { storageClients } from "../../src/storage.js";
import { ScheduleStore } from "../../src/schedules/store.js";
import { PENDING_GRACE_MS, checkSchedules, evaluateSchedule, type CheckReport } from "../../src/schedules/fire.js";
import { createSchedule } from "../../src/schedules/manage.js";
import { SCHEDULE_LABEL } from "../../src/schedules/model.js";
import type { JobRecord } from "../../src/model.js";
import { quietLog, startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

let stack: Stack;
let clock: Date;
const instances: { deps: Deps; store: ScheduleStore }[] = [];

beforeAll(async () => {
  stack = await startStack({
    hosts: 1,
    pools: {
      default: { maxConcurrency: 50, resourceGroup: "rg-sched" },
      tiny: { maxConcurrency: 1, maxWaiting: 1, resourceGroup: "rg-sched" },
    },
    env: { BURST_SCHEDULE_CHECK: "0 0 0 1 1 *" },
  });
  for (let i = 0; i < 3; i++) {
    const config = loadConfig(stack.env);
    const storage = storageClients(config.storage);
    const deps = { ...buildDeps(config, quietLog, { storage }), clock: { now: () => new Date(clock) } };
    instances.push({ deps, store: new ScheduleStore(storage.table(config.names.schedulesTable)) });
  }
});

afterAll(async () => {
  await stack?.stop();
});

/** Every instance checks `calls` times at once, all together; what they did to `names`' schedules. */
async function checkEverywhere(names: string[], calls = 4): Promise<Pick<CheckReport, "fired" | "skipped" | "missed">> {
  const reports = await Promise.all(
    instances.flatMap(({ deps, store }) => Array.from({ length: calls }, () => checkSchedules(deps, store))),
  );
  const mine = (k: "fired" | "skipped" | "missed") =>
    reports
      .flatMap((r) => r[k])
      .filter((f) => names.includes(f.split("@")[0]!))
      .sort();
  return { fired: mine("fired"), skipped: mine("skipped"), missed: mine("missed") };
}

async function runsOf(name: string): Promise<JobRecord[]> {
  return (await stack.deps.jobs.list({ label: `${SCHEDULE_LABEL}=${name}` }, 1000)).jobs;
}

async function define(spec: Record<string, unknown>) {
  const { deps, store } = instances[0]!;
  const r = await createSchedule(deps, store, { job: { image: "busybox", command: ["sleep", "600"], cpu: 0.5, memoryGb: 0.5 }, ...spec });
  expect(r.outcome).toBe("created");
}

describe("a schedule checked by three instances at once", () => {
  it("fires each tick exactly once, and each run is a job labelled with its schedule", async () => {
    clock = new Date("2030-01-01T10:00:30Z");
    await define({ name: "every-minute", cron: "* * * * *" });
    const ticks: string[] = [];
    for (let m = 1; m <= 5; m++) {
      clock = new Date(Date.UTC(2030, 0, 1, 10, m, 2));
      ticks.push(new Date(Date.UTC(2030, 0, 1, 10, m, 0)).toISOString());
      expect((await checkEverywhere(["every-minute"])).fired).toEqual([`every-minute@${ticks.at(-1)}`]);
      // A second look at the same moment finds nothing due.
      expect((await checkEverywhere(["every-minute"], 1)).fired).toEqual([]);
    }
    const runs = await runsOf("every-minute");
    expect(runs.map((j) => j.source?.tick).sort()).toEqual(ticks);
    expect(new Set(runs.map((j) => j.id)).size).toBe(5);
    const rec = (await instances[1]!.store.get("every-minute"))!.value;
    expect(rec.history.map((h) => h.tick).reverse()).toEqual(ticks);
    expect(rec.pending).toBeUndefined();
  });

  it("still makes exactly one job when the instance that decided a tick dies before submitting it", async () => {
    clock = new Date("2030-01-02T10:00:30Z");
    await define({ name: "crashy", cron: "* * * * *" });
    clock = new Date("2030-01-02T10:01:01Z");
    // This instance decides the tick, then its job write fails, as a crash there would leave it.
    const { deps, store } = instances[0]!;
    const dying = {
      ...deps,
      jobs: { ...deps.jobs, get: deps.jobs.get.bind(deps.jobs), create: () => Promise.reject(new Error("host killed")) },
    } as Deps;
    const e = await evaluateSchedule(dying, store, "crashy");
    expect(e.outcome).toBe("fired");
    expect((await store.get("crashy"))!.value.pending?.tick).toBe("2030-01-02T10:01:00.000Z");
    expect(await runsOf("crashy")).toEqual([]);
    // For PENDING_GRACE_MS the run is left to its decider; then the others' next look submits it, once.
    await checkEverywhere(["crashy"]);
    expect(await runsOf("crashy")).toEqual([]);
    clock = new Date(clock.getTime() + PENDING_GRACE_MS);
    await checkEverywhere(["crashy"]);
    const runs = await runsOf("crashy");
    expect(runs.map((j) => j.id)).toEqual([e.outcome === "fired" ? e.jobId : "?"]);
    expect((await store.get("crashy"))!.value.pending).toBeUndefined();
  });
});

describe("concurrency policies", () => {
  it("Forbid skips a tick while the previous run is alive, and fires the next once it has ended", async () => {
    clock = new Date("2030-01-03T10:00:30Z");
    await define({ name: "forbid", cron: "* * * * *", concurrency: "Forbid" });
    clock = new Date("2030-01-03T10:01:01Z");
    await checkEverywhere(["forbid"]);
    const [first] = await runsOf("forbid");
    expect(first).toBeDefined();
    clock = new Date("2030-01-03T10:02:01Z");
    const { skipped } = await checkEverywhere(["forbid"]);
    expect(skipped).toEqual(["forbid@2030-01-03T10:02:00.000Z"]);
    const rec = (await instances[0]!.store.get("forbid"))!.value;
    expect(rec.history[0]).toMatchObject({ outcome: "skipped", reason: expect.stringContaining(first!.id) });
    expect(await runsOf("forbid")).toHaveLength(1);

    await cancelJob(instances[0]!.deps, first!.id);
    await stack.waitFor(first!.id);
    clock = new Date("2030-01-03T10:03:01Z");
    expect((await checkEverywhere(["forbid"])).fired).toEqual(["forbid@2030-01-03T10:03:00.000Z"]);
    expect(await runsOf("forbid")).toHaveLength(2);
  });

  it("Replace cancels the live previous run and starts the new one", async () => {
    clock = new Date("2030-01-04T10:00:30Z");
    await define({ name: "replace", cron: "* * * * *", concurrency: "Replace" });
    clock = new Date("2030-01-04T10:01:01Z");
    await checkEverywhere(["replace"]);
    const [first] = await runsOf("replace");
    clock = new Date("2030-01-04T10:02:01Z");
    expect((await checkEverywhere(["replace"])).fired).toEqual(["replace@2030-01-04T10:02:00.000Z"]);
    expect((await stack.waitFor(first!.id)).state).toBe("Canceled");
    const runs = await runsOf("replace");
    expect(runs).toHaveLength(2);
    expect(runs.find((j) => j.id !== first!.id)!.state).not.toBe("Canceled");
  });
});

describe("a full pool", () => {
  it("skips a tick while the run's pool has no room in its waiting line (its maxWaiting)", async () => {
    clock = new Date("2030-01-07T10:00:30Z");
    await define({
      name: "crowded",
      cron: "* * * * *",
      job: { image: "busybox", command: ["sleep", "600"], cpu: 0.5, memoryGb: 0.5, pool: "tiny" },
    });
    // The first run takes the pool's one slot, the second its one place in line.
    for (const m of [1, 2]) {
      clock = new Date(Date.UTC(2030, 0, 7, 10, m, 1));
      expect((await checkEverywhere(["crowded"])).fired).toHaveLength(1);
    }
    await waitUntil(async () => (await runsOf("crowded")).map((j) => j.state).sort(), {
      what: "one run holding the slot, one waiting",
      until: (s) => s.join() === "Running,Waiting" || s.join() === "Launching,Waiting" || s.join() === "Admitted,Waiting",
    });
    clock = new Date("2030-01-07T10:03:01Z");
    expect((await checkEverywhere(["crowded"])).skipped).toEqual(["crowded@2030-01-07T10:03:00.000Z"]);
    const rec = (await instances[0]!.store.get("crowded"))!.value;
    expect(rec.history[0]!.reason).toBe("pool tiny's waiting line is full (1 of its maxWaiting 1)");
    for (const j of await runsOf("crowded")) await cancelJob(instances[0]!.deps, j.id);
  });
});

describe("after a 10-minute outage", () => {
  it("startingDeadlineSeconds decides: the latest missed tick runs if it is within the deadline, none if past it", async () => {
    clock = new Date("2030-01-05T10:00:30Z");
    await define({ name: "lenient", cron: "* * * * *", startingDeadlineSeconds: 60 });
    await define({ name: "strict", cron: "* * * * *", startingDeadlineSeconds: 20 });
    // Nobody checks from 10:00:30 until 10:10:30: ten ticks pass unseen.
    clock = new Date("2030-01-05T10:10:30Z");
    const after = await checkEverywhere(["lenient", "strict"]);
    expect(after.fired).toEqual(["lenient@2030-01-05T10:10:00.000Z"]);
    expect(after.missed).toEqual(["strict@2030-01-05T10:10:00.000Z"]);
    expect(await runsOf("lenient")).toHaveLength(1);
    expect(await runsOf("strict")).toHaveLength(0);
    const lenient = (await instances[0]!.store.get("lenient"))!.value;
    expect(lenient.history[0]!.reason).toContain("9 earlier ticks not run");
    const strict = (await instances[0]!.store.get("strict"))!.value;
    expect(strict.history[0]).toMatchObject({ outcome: "missed", reason: expect.stringContaining("past startingDeadlineSeconds (20)") });
    // Back to normal: the next tick runs on time for both.
    clock = new Date("2030-01-05T10:11:05Z");
    const { fired: next } = await checkEverywhere(["lenient", "strict"]);
    expect(next).toEqual(["lenient@2030-01-05T10:11:00.000Z", "strict@2030-01-05T10:11:00.000Z"]);
  });
});

describe("schedules from BURST_SCHEDULES", () => {
  it("are created by the first check, fire, follow a changed definition and leave with the setting", async () => {
    const def = (cron: string) => ({
      name: "from-config",
      cron,
      timeZone: "UTC",
      concurrency: "Allow" as const,
      suspend: false,
      historyLimit: 10,
      job: { image: "busybox", command: ["sleep", "600"], labels: { "burst-schedule": "from-config" } },
    });
    const withConfig = (schedules: ReturnType<typeof def>[]) =>
      instances.map(({ deps, store }) => ({ deps: { ...deps, config: { ...deps.config, schedules } }, store }));
    // What the checks did to this schedule (the earlier tests' schedules are due too).
    const checkAll = async (ins: typeof instances) => {
      const reports = await Promise.all(ins.flatMap(({ deps, store }) => [checkSchedules(deps, store), checkSchedules(deps, store)]));
      return { fired: reports.flatMap((r) => r.fired).filter((f) => f.startsWith("from-config@")) };
    };
    const { store } = instances[0]!;

    clock = new Date("2030-01-06T10:00:30Z");
    await checkAll(withConfig([def("* * * * *")]));
    expect((await store.get("from-config"))!.value).toMatchObject({
      source: "config",
      cron: "* * * * *",
      lastTick: "2030-01-06T10:00:30.000Z",
    });
    clock = new Date("2030-01-06T10:01:05Z");
    expect((await checkAll(withConfig([def("* * * * *")]))).fired).toEqual(["from-config@2030-01-06T10:01:00.000Z"]);

    // A changed definition replaces the stored one and keeps its history.
    clock = new Date("2030-01-06T10:02:05Z");
    const changed = await checkAll(withConfig([def("*/5 * * * *")]));
    expect(changed.fired).toEqual([]);
    expect((await store.get("from-config"))!.value).toMatchObject({ cron: "*/5 * * * *", history: [{ tick: "2030-01-06T10:01:00.000Z" }] });

    await checkAll(withConfig([]));
    expect(await store.get("from-config")).toBeUndefined();
  });
});
