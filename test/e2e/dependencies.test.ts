import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/harness.js";
import { childId } from "../../src/scheduler/array.js";
import { submitJob } from "../../src/scheduler/submit.js";
import { waitingReasons } from "../../src/api/waiting.js";
import type { JobRecord } from "../../src/model.js";

const started = (j: JobRecord) => Date.parse(j.attempts[0]!.startedAt!);
const ended = (j: JobRecord) => Date.parse(j.attempts[0]!.finishedAt!);

describe("jobs that depend on other jobs", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ pools: { default: { maxConcurrency: 6, resourceGroup: `rg-deps-${Date.now()}` } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const sleep = (s: number) => ({ image: "alpine", command: ["sh", "-c", `sleep ${s}`], timeoutSeconds: 60 });

  it("runs a diamond (A → B, C → D) in order, the waiting ones holding no slot and saying why", async () => {
    const a = (await submitJob(stack.deps, sleep(2))).job.id;
    const b = (await submitJob(stack.deps, { ...sleep(1), dependsOn: [{ job: a }] })).job.id;
    const c = (await submitJob(stack.deps, { ...sleep(2), dependsOn: [{ job: a, on: "success" }] })).job.id;
    const d = (await submitJob(stack.deps, { ...sleep(1), dependsOn: [{ job: b }, { job: c, on: "completion" }] })).job.id;
    const dWaiting = (await stack.deps.jobs.get(d))!.value;
    expect(dWaiting.state).toBe("Waiting");
    expect((await waitingReasons(stack.deps, [dWaiting])).get(d)?.reason).toBe("dependencies");
    expect((await stack.deps.ledger.waiting("default", 100)).map((e) => e.jobId)).not.toContain(d);

    const [ja, jb, jc, jd] = await stack.waitForAll([a, b, c, d], 120_000);
    expect([ja, jb, jc, jd].map((j) => j!.state)).toEqual(["Succeeded", "Succeeded", "Succeeded", "Succeeded"]);
    expect(started(jb!)).toBeGreaterThanOrEqual(ended(ja!));
    expect(started(jc!)).toBeGreaterThanOrEqual(ended(ja!));
    expect(started(jd!)).toBeGreaterThanOrEqual(Math.max(ended(jb!), ended(jc!)));
  }, 150_000);

  it("cancels the dependents of a failed job with a reason naming it, down the chain", async () => {
    const a = (await submitJob(stack.deps, { image: "alpine", command: ["sh", "-c", "exit 3"], timeoutSeconds: 60 })).job.id;
    const b = (await submitJob(stack.deps, { ...sleep(1), dependsOn: [{ job: a }] })).job.id;
    const c = (await submitJob(stack.deps, { ...sleep(1), dependsOn: [{ job: b }] })).job.id;
    const onFailure = (await submitJob(stack.deps, { ...sleep(0), dependsOn: [{ job: a, on: "failure" }] })).job.id;
    const [ja, jb, jc, jf] = await stack.waitForAll([a, b, c, onFailure], 120_000);
    expect(ja!.state).toBe("Failed");
    expect(jb!.state).toBe("Canceled");
    expect(jb!.reason).toBe(`canceled: dependency ${a} ended Failed (this job needed its success)`);
    expect(jb!.attempts).toEqual([]);
    expect(jc!.state).toBe("Canceled");
    expect(jc!.reason).toContain(`dependency ${b} ended Canceled`);
    expect(jf!.state).toBe("Succeeded");
  }, 150_000);

  it("rejects a dependency on a job that does not exist, naming the field", async () => {
    const missing = await submitJob(stack.deps, { ...sleep(1), dependsOn: [{ job: "jnosuchjob" }] });
    expect(missing.job.state).toBe("Rejected");
    expect(missing.job.errors).toEqual([{ field: "dependsOn[0].job", rule: 'must name an existing job (there is no job "jnosuchjob")' }]);
  });

  it("sees a dependency that ended while the dependent was being submitted", async () => {
    const a = (await submitJob(stack.deps, sleep(0))).job.id;
    await stack.waitFor(a);
    const b = (await submitJob(stack.deps, { ...sleep(0), dependsOn: [{ job: a }] })).job.id;
    expect((await stack.waitFor(b, undefined, 60_000)).state).toBe("Succeeded");
  }, 90_000);

  it("runs n-to-n arrays index by index and a sequential array in index order", async () => {
    const first = (await submitJob(stack.deps, { ...sleep(0.5), array: { count: 6, parallelism: 2 } })).job.id;
    const second = (await submitJob(stack.deps, { ...sleep(0), array: { count: 6 }, dependsOn: [{ job: first, mode: "n-to-n" }] })).job.id;
    const seq = (await submitJob(stack.deps, { ...sleep(0.2), array: { count: 5, sequential: true } })).job.id;
    const parents = await stack.waitForAll([first, second, seq], 120_000);
    expect(parents.map((p) => p!.state)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    const get = async (id: string) => (await stack.deps.jobs.get(id))!.value;
    for (let i = 0; i < 6; i++) expect(started(await get(childId(second, i)))).toBeGreaterThanOrEqual(ended(await get(childId(first, i))));
    for (let i = 1; i < 5; i++) expect(started(await get(childId(seq, i)))).toBeGreaterThanOrEqual(ended(await get(childId(seq, i - 1))));
  }, 150_000);
});
