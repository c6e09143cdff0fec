import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";
import { Api, ended, startApiStack } from "./apiClient.js";

describe("POST /api/run (sim runtime)", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => { ({ stack, api } = await startApiStack()); });
  afterAll(async () => { await stack?.stop(); });

  it("answers 200 with the exit code, output, cost and duration when the job ends in time", async () => {
    const r = await api.post("/api/run", { image: "alpine", command: ["sh", "-c", "echo computing; sleep 1; echo done; exit 3"], timeoutSeconds: 60, waitSeconds: 60 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ state: "Failed", exitCode: 3, logs: "computing\ndone\n", logsTruncated: false });
    expect(r.json.costUsd).toBeGreaterThan(0);
    expect(r.json.durationSeconds).toBeGreaterThanOrEqual(1);
    expect(r.headers.get("location")).toBe(`/api/jobs/${r.json.id}`);
  });

  it("answers 202 with a Location when the job is still going after waitSeconds", async () => {
    const r = await api.post("/api/run", { image: "alpine", command: ["sleep", "60"], timeoutSeconds: 120, waitSeconds: 1 });
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/api/jobs/${r.json.id}`);
    expect(ended(r.json)).toBe(false);
    const job = await api.get(r.headers.get("location")!);
    expect(job.status).toBe(200);
    await api.delete(`/api/jobs/${r.json.id}`);
  });

  it("refuses a bad waitSeconds together with the spec's own errors, creating nothing", async () => {
    const r = await api.post("/api/run", { image: "alpine", cpu: 0, waitSeconds: 231 });
    expect(r.status).toBe(400);
    expect(r.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["cpu", "waitSeconds"]);
    expect(r.json.error.message).toMatch(/waitSeconds must be a whole number from 0 to 230/);
    const list = await api.post("/api/run", [{ image: "alpine" }]);
    expect(list.status).toBe(400);
    expect(list.json.error.details[0].field).toBe("(body)");
  });
});

describe("POST /api/run with a public IP (process runtime)", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => { ({ stack, api } = await startApiStack({ runtime: "process" })); });
  afterAll(async () => { await stack?.stop(); });

  it("runs ACI's quick start image and answers with an address that serves its welcome page, without waiting for it to end", async () => {
    const r = await api.post("/api/run", { image: "mcr.microsoft.com/azuredocs/aci-helloworld", publicIp: true, ports: [80], timeoutSeconds: 300, waitSeconds: 60 });
    expect(r.status).toBe(200);
    expect(r.json.state).toBe("Running");
    expect(r.json.address.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(r.json.address.urls).toHaveLength(1);
    // The container has started; its server may need a moment to listen.
    const page = await waitUntil(() => fetch(r.json.address.urls[0]).then((res) => res.text(), () => ""), { what: `${r.json.address.urls[0]} to answer`, timeoutMs: 5000 });
    expect(page).toContain("Welcome to Azure Container Instances!");
    expect((await api.delete(`/api/jobs/${r.json.id}`)).status).toBe(202);
    const job = await api.waitFor(r.json.id, ended);
    expect(job.state).toBe("Canceled");
  });
});
