import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { Api, startApiStack } from "./apiClient.js";
import { childId } from "../../src/scheduler/array.js";

describe("arrays and dependencies through the HTTP API", () => {
  let stack: Stack;
  let api: Api;
  const rg = `rg-apiarr-${Date.now()}`;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({ pools: { default: { maxConcurrency: 4, resourceGroup: rg } } }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("retries only the failed children of a failed array, and keeps the cost roll-up exact", async () => {
    // Index 0 exits 0; 1, 2 and 3 exit with their index.
    const sub = await api.post("/api/jobs", {
      image: "alpine",
      command: ["sh", "-c", "exit $BURST_ARRAY_INDEX"],
      timeoutSeconds: 60,
      array: { count: 4 },
    });
    expect(sub.status).toBe(202);
    const id = sub.json.id as string;
    const first = await stack.waitFor(id, undefined, 90_000);
    expect(first.state).toBe("Failed");
    const before = (await api.get(`/api/jobs/${id}`)).json;
    expect(before.array).toMatchObject({ count: 4, counts: { Succeeded: 1, Failed: 3 }, failedIndexes: [1, 2, 3] });

    const r = await api.post(`/api/jobs/${id}/retry`, undefined, { query: { failed: true } });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ id, state: "Running", retrying: [1, 2, 3] });
    const again = await stack.waitFor(
      id,
      (j) => j.state === "Failed" && !j.array!.marks.includes(".") && !j.array!.marks.includes("r"),
      90_000,
    );
    const creates = stack.emulator.stats().createsByName;
    expect(creates[`burst-${childId(id, 0)}-2`]).toBeUndefined();
    for (const i of [1, 2, 3]) expect(creates[`burst-${childId(id, i)}-2`]).toBe(1);
    const children = await Promise.all([0, 1, 2, 3].map(async (i) => (await stack.deps.jobs.get(childId(id, i)))!.value));
    expect(children.map((c) => c.attempts.length)).toEqual([1, 2, 2, 2]);
    const sum = children.reduce((s, c) => s + c.costUsd, 0);
    expect(again.costUsd).toBeCloseTo(sum, 6);
    expect(again.array!.billedSeconds).toBe(children.reduce((s, c) => s + c.attempts.reduce((t, a) => t + (a.billedSeconds ?? 0), 0), 0));
  }, 200_000);

  it("answers 409 for a retry of a job that is not a failed array, and 400 without failed=true", async () => {
    const sub = await api.post("/api/jobs", { image: "alpine", command: ["sh", "-c", "echo hi"], timeoutSeconds: 60 });
    await stack.waitFor(sub.json.id);
    const plain = await api.post(`/api/jobs/${sub.json.id}/retry`, undefined, { query: { failed: true } });
    expect(plain.status).toBe(409);
    expect(plain.json.error.code).toBe("NothingToRetry");
    const noFlag = await api.post(`/api/jobs/${sub.json.id}/retry`, undefined);
    expect(noFlag.status).toBe(400);
    expect(noFlag.text).toContain("failed must be true");
  });

  it("refuses with 400 a dependsOn naming a job that does not exist, and stores nothing", async () => {
    const r = await api.post("/api/jobs", { image: "alpine", timeoutSeconds: 60, dependsOn: [{ job: "jdoesnotexist" }] });
    expect(r.status).toBe(400);
    expect(r.text).toContain('dependsOn[0].job must name an existing job (there is no job \\"jdoesnotexist\\")');
  });
});
