import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRANSITIONS, type TransitionEvent } from "../../src/jobState.js";
import type { JobRecord } from "../../src/model.js";
import { submitJob } from "../../src/scheduler/submit.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { abandonJob } from "../../src/scheduler/abandon.js";
import { FAILED_POLL_RETRY_SECONDS, poll, pollAll, pump, runAll, type Next } from "../../src/scheduler/flow.js";
import { childId } from "../../src/scheduler/array.js";
import { retryFailedStep } from "../../src/scheduler/arrayRetry.js";
import { changeJob, createJob, isFinal } from "../../src/jobState.js";
import { waitUntil } from "../support/wait.js";
import type { Deps } from "../../src/scheduler/deps.js";
import { startStack, type Stack } from "../support/harness.js";

/**
 * The scheduler's steps, driven in this process (no host takes the queue messages), so
 * every transition they write is heard here, on deps.events.
 */
describe("the transitions the scheduler makes", () => {
  let stack: Stack;
  let deps: Deps;
  const heard: TransitionEvent[] = [];
  beforeAll(async () => {
    stack = await startStack({
      hosts: 0,
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-edges-${Date.now()}` },
        one: { maxConcurrency: 1, resourceGroup: `rg-edges-one-${Date.now()}` },
      },
    });
    deps = stack.deps;
    deps.events.on((e) => heard.push(e));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const edgesOf = (id: string) => heard.filter((e) => e.jobId === id).map((e) => `${e.from}->${e.to}`);
  const current = async (id: string) => (await deps.jobs.get(id))!.value;

  /**
   * Polls as the monitor's messages would, until `done` — and until the move into the state
   * it stopped at has been heard: storage answers a read with the new record a moment
   * before the write's own answer comes back to the step that then tells of the move.
   */
  async function pollUntil(id: string, done: (j: JobRecord) => boolean, clock = deps): Promise<JobRecord> {
    for (let i = 0; i < 300; i++) {
      const job = await current(id);
      if (done(job) && heard.some((e) => e.jobId === id && e.to === job.state)) return job;
      if (job.state === "Running") await poll(clock, { jobId: id, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq });
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} did not get there: ${JSON.stringify(await current(id)).slice(0, 400)}`);
  }

  it("runs a job through each state once, telling each move once, in order", async () => {
    const { job } = await submitJob(deps, { image: "alpine", command: ["echo", "hi"], timeoutSeconds: 60 });
    await pollUntil(job.id, (j) => j.state === "Succeeded");
    expect(edgesOf(job.id)).toEqual([
      "New->Waiting",
      "Waiting->Admitted",
      "Admitted->Launching",
      "Launching->Running",
      "Running->Finishing",
      "Finishing->Succeeded",
    ]);
    expect(heard.filter((e) => e.jobId === job.id).map((e) => e.attempt)).toEqual([undefined, undefined, 1, 1, 1, 1]);
  });

  it("retries a failed attempt through Waiting, times out a long one, and rejects a bad spec", async () => {
    const retried = (await submitJob(deps, { image: "alpine", command: ["sh", "-c", "exit 3"], retries: 1, timeoutSeconds: 60 })).job.id;
    const slow = (await submitJob(deps, { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 1 })).job.id;
    const bad = (await submitJob(deps, { image: "alpine", cpu: 99 })).job.id;
    await pollUntil(retried, (j) => j.state === "Waiting" && j.attempts.length === 1);
    // Past the retry's backoff: the pump admits it again.
    const later = { ...deps, clock: { now: () => new Date(Date.now() + 60_000) } };
    await pump(later, "default");
    await pollUntil(retried, (j) => j.state === "Failed");
    await pollUntil(slow, (j) => j.state === "TimedOut");
    expect(edgesOf(retried)).toEqual([
      "New->Waiting",
      "Waiting->Admitted",
      "Admitted->Launching",
      "Launching->Running",
      "Running->Finishing",
      "Finishing->Waiting",
      "Waiting->Admitted",
      "Admitted->Launching",
      "Launching->Running",
      "Running->Finishing",
      "Finishing->Failed",
    ]);
    expect(edgesOf(slow).slice(-2)).toEqual(["Running->Finishing", "Finishing->TimedOut"]);
    expect(edgesOf(bad)).toEqual(["New->Rejected"]);
  });

  it("cancels waiting and running jobs, fails a launch ACI refuses, launches without its backup message, and ends an admitted job whose launch keeps failing", async () => {
    const running = (await submitJob(deps, { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120, pool: "one" })).job.id;
    await pollUntil(running, (j) => j.state === "Running");
    const waiting = (await submitJob(deps, { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120, pool: "one" })).job.id;
    expect((await cancelJob(deps, waiting)).outcome).toBe("canceled");
    await cancelJob(deps, running);
    await pollUntil(running, (j) => j.state === "Canceled");
    expect(edgesOf(waiting)).toEqual(["New->Waiting", "Waiting->Canceled"]);
    expect(edgesOf(running).slice(-2)).toEqual(["Running->Finishing", "Finishing->Canceled"]);

    stack.emulator.setFaults({ inaccessibleImages: ["refused.example/*"] });
    const refused = (await submitJob(deps, { image: "refused.example/app", timeoutSeconds: 60 })).job.id;
    await pollUntil(refused, (j) => j.state === "Failed");
    expect(edgesOf(refused)).toEqual([
      "New->Waiting",
      "Waiting->Admitted",
      "Admitted->Launching",
      "Launching->Finishing",
      "Finishing->Failed",
    ]);

    // The backup launch message cannot be sent at admission (a queue outage): the inline
    // launch goes ahead beside it all the same (were it to fail too, the reconciler would
    // take the stale claim over), and the job runs to its end.
    const warned: string[] = [];
    const outage: Deps = {
      ...deps,
      log: { ...deps.log, warn: (m: string) => void warned.push(m) },
      outbox: {
        send: async (queue: string, ...rest: unknown[]) => {
          if (queue === "launch") throw new Error("queue unavailable");
          return (deps.outbox.send as (...a: unknown[]) => Promise<void>)(queue, ...rest);
        },
      } as Deps["outbox"],
    };
    const launched = (await submitJob(outage, { image: "alpine", command: ["echo", "x"], timeoutSeconds: 60 })).job.id;
    const ran = await pollUntil(launched, (j) => isFinal(j.state));
    expect(ran.state).toBe("Succeeded");
    expect(edgesOf(launched)).toEqual(["New->Waiting", "Waiting->Admitted", "Admitted->Launching", "Launching->Running", "Running->Finishing", "Finishing->Succeeded"]);
    expect(warned.some((m) => m.includes(launched) && m.includes("backup launch message could not be sent"))).toBe(true);

    // A job that an earlier version of Burst left Admitted (it marked, then claimed in a
    // second write) and whose launch failed on every try is ended from Admitted.
    const older = `older-${Date.now()}`;
    await createJob(deps, "Waiting", { id: older, pool: "default", spec: ran.spec, labels: {}, attempts: [] });
    await changeJob(deps, older, (j, move) => (j.state === "Waiting" ? move(j, "Admitted", { reason: "admitted to pool default" }) : undefined));
    await abandonJob(deps, older, "launch", new Error("queue unavailable"));
    expect(edgesOf(older)).toEqual(["New->Waiting", "Waiting->Admitted", "Admitted->Finishing", "Finishing->Failed"]);
  });

  it("takes an array parent from Waiting to Running to its end, and back to Running for a retry of its failed children", async () => {
    const failing = (
      await submitJob(deps, { image: "alpine", command: ["sh", "-c", "exit $BURST_ARRAY_INDEX"], timeoutSeconds: 60, array: { count: 2 } })
    ).job.id;
    const slow = (await submitJob(deps, { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 1, array: { count: 1 } })).job.id;
    const children = [childId(failing, 0), childId(failing, 1), childId(slow, 0)];
    const parentsFailed = () =>
      waitUntil(async () => (await current(failing)).state === "Failed" && (await current(slow)).state === "Failed", {
        what: "both arrays to fail",
        timeoutMs: 30_000,
      });
    for (const id of children) await pollUntil(id, (j) => isFinal(j.state));
    await parentsFailed();
    for (const id of [failing, slow]) await runAll(deps, ((await retryFailedStep(deps, id)) as { next: Next[] }).next);
    for (const id of children.slice(1)) await pollUntil(id, (j) => isFinal(j.state) && j.attempts.length === 2);
    await parentsFailed();
    expect(edgesOf(failing)).toEqual([
      "New->Waiting",
      "Waiting->Running",
      "Running->Finishing",
      "Finishing->Failed",
      "Failed->Running",
      "Running->Finishing",
      "Finishing->Failed",
    ]);
    expect(edgesOf(children[1]!)).toContain("Failed->Waiting");
    expect(edgesOf(children[2]!)).toContain("TimedOut->Waiting");
    expect(edgesOf(children[0]!)).not.toContain("Succeeded->Waiting");
  });

  it("writes a quiet poll only every 15 s, and a duplicated poll's second chain stops at that write", async () => {
    const { job } = await submitJob(deps, { image: "alpine", command: ["sleep", "120"], timeoutSeconds: 300 });
    const started = await pollUntil(job.id, (j) => j.state === "Running" && !!j.startedAt && !!j.lastLogReadAt && !!j.lastPolledAt);
    const later = (seconds: number): Deps => ({
      ...deps,
      clock: { now: () => new Date(Date.parse(started.lastPolledAt!) + seconds * 1000) },
    });
    const before = (await deps.jobs.get(job.id))!;
    const msg = { jobId: job.id, attempt: before.value.attempts.at(-1)!.n, seq: before.value.monitorSeq };
    // The same message twice, as a redelivery would bring it: neither writes, both go on with the same token.
    await poll(later(1), msg);
    await poll(later(1), msg);
    expect((await deps.jobs.get(job.id))!.etag).toBe(before.etag);
    // The next poll that has something to write (here: the 15 s refresh) moves the token on.
    await poll(later(16), msg);
    const refreshed = (await deps.jobs.get(job.id))!;
    expect(refreshed.value.monitorSeq).toBe(msg.seq + 1);
    expect(refreshed.value.lastPolledAt).toBe(later(16).clock.now().toISOString());
    // The other chain's next message carries the old token and stops there.
    await poll(later(17), msg);
    expect((await deps.jobs.get(job.id))!.etag).toBe(refreshed.etag);
    await cancelJob(deps, job.id);
    await pollUntil(job.id, (j) => j.state === "Canceled");
  });

  it("starts a chain's poll from the version it remembers, and a cancel's poll from the stored one", async () => {
    const { job } = await submitJob(deps, { image: "alpine", command: ["sleep", "120"], timeoutSeconds: 300 });
    const running = await pollUntil(job.id, (j) => j.state === "Running" && !!j.startedAt && !!j.lastLogReadAt);
    const msg = { jobId: job.id, attempt: running.attempts.at(-1)!.n, seq: running.monitorSeq };
    const reads = vi.spyOn(deps.jobs, "get");
    await poll(deps, msg);
    expect(reads).not.toHaveBeenCalled();
    // Another instance asks for the cancel (its own store): this process's remembered version does not have it.
    const { TableJobStore } = await import("../../src/store/jobStore.js");
    const { tableClient } = await import("../../src/store/tables.js");
    const other = new TableJobStore(
      tableClient(stack.env.AzureWebJobsStorage!, deps.config.names.jobsTable),
      tableClient(stack.env.AzureWebJobsStorage!, deps.config.names.jobIndexTable),
      () => {},
    );
    const stored = (await other.get(job.id))!;
    await other.replace({ ...stored.value, cancelRequested: true }, stored.etag, stored.value);
    reads.mockClear();
    // The cancel's poll is marked fresh: it reads the record, sees the cancel and stops the container.
    await poll(deps, { ...msg, seq: stored.value.monitorSeq, fresh: true });
    expect(reads).toHaveBeenCalled();
    reads.mockRestore();
    const canceled = await pollUntil(job.id, (j) => isFinal(j.state));
    expect(canceled.state).toBe("Canceled");
  });

  it("runs the polls of one message side by side, and sends a poll that failed back alone", async () => {
    const [a, b] = await Promise.all(
      [0, 1].map(async () => (await submitJob(deps, { image: "alpine", command: ["sleep", "120"], timeoutSeconds: 300 })).job.id),
    );
    const [ra, rb] = await Promise.all([a!, b!].map((id) => pollUntil(id, (j) => j.state === "Running" && !!j.startedAt)));
    const msgs = [ra!, rb!].map((j) => ({ jobId: j.id, attempt: j.attempts.at(-1)!.n, seq: j.monitorSeq }));
    // ARM answers for one group and fails for the other.
    const failing: Deps = {
      ...deps,
      aci: Object.assign(Object.create(deps.aci), {
        get: (ref: { name: string }) =>
          ref.name.includes(b!) ? Promise.reject(new Error("ARM is down for this one")) : deps.aci.get(ref as never),
      }),
    };
    const sends = vi.spyOn(deps.outbox, "send");
    await pollAll(failing, msgs);
    expect(sends.mock.calls.filter((c) => c[3]?.alone)).toEqual([["monitor", msgs[1], FAILED_POLL_RETRY_SECONDS, { alone: true }]]);
    // The poll that worked went on as usual (its next poll sent with the others).
    expect(sends.mock.calls.some((c) => c[0] === "monitor" && (c[1] as { jobId: string }).jobId === a && !c[3])).toBe(true);
    sends.mockRestore();
    for (const id of [a!, b!]) await cancelJob(deps, id);
    await Promise.all([a!, b!].map((id) => pollUntil(id, (j) => j.state === "Canceled")));
  });

  it("sends a chain's first poll again, alone, when storage refuses its send, so the job is still watched", async () => {
    const warned: string[] = [];
    const sent: unknown[][] = [];
    let refusals = 2;
    const flaky: Deps = {
      ...deps,
      log: { ...deps.log, warn: (m: string) => void warned.push(m) },
      outbox: {
        send: async (queue: string, ...rest: unknown[]) => {
          if (queue === "monitor" && refusals > 0) {
            refusals--;
            throw new Error("storage is slow to answer");
          }
          sent.push([queue, ...rest]);
          return (deps.outbox.send as (...a: unknown[]) => Promise<void>)(queue, ...rest);
        },
      } as Deps["outbox"],
    };
    const id = (await submitJob(flaky, { image: "alpine", command: ["echo", "watched"], timeoutSeconds: 60 })).job.id;
    await waitUntil(async () => sent.some(([q, m]) => q === "monitor" && (m as { jobId: string }).jobId === id), { what: "the first poll sent", timeoutMs: 20_000 });
    const first = sent.find(([q, m]) => q === "monitor" && (m as { jobId: string }).jobId === id)!;
    expect(first[3]).toEqual({ alone: true });
    expect(warned.filter((m) => m.includes(id) && m.includes("first poll of attempt 1 could not be sent"))).toHaveLength(2);
    expect((await pollUntil(id, (j) => isFinal(j.state))).state).toBe("Succeeded");
  });

  it("has heard every edge of the state table, and no other", () => {
    const table = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
    expect([...new Set(heard.map((e) => `${e.from}->${e.to}`))].sort()).toEqual(table.sort());
  });
});
