import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/harness.js";
import { Api, ended, startApiStack } from "./apiClient.js";

const ROUTES: [string, string][] = [
  ["POST", "/api/jobs"], ["GET", "/api/jobs"], ["GET", "/api/jobs/jsomejob"], ["DELETE", "/api/jobs/jsomejob"],
  ["GET", "/api/jobs/jsomejob/logs"], ["GET", "/api/pools"], ["POST", "/api/run"], ["GET", "/api/costs"],
];

describe("API keys and secure values", () => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => { ({ stack, api } = await startApiStack()); });
  afterAll(async () => { await stack?.stop(); });

  it("answers 401 on every route without a key, with a wrong key, and with the key in the wrong place", async () => {
    for (const [method, path] of ROUTES) {
      const body = method === "POST" ? { image: "alpine" } : undefined;
      for (const key of [null, "wrong-key", ""]) {
        const r = await api.call(method, path, { key, body });
        expect(r.status, `${method} ${path} with key ${JSON.stringify(key)}`).toBe(401);
      }
    }
    // Nothing was created by any of the refused requests.
    let n = 0;
    for await (const _ of stack.deps.jobs.scan()) n++;
    expect(n).toBe(0);
    // The same requests get through with the key as ?code= (to a 400 for the invalid body, or a 404 for the unknown job).
    for (const [method, path] of ROUTES) {
      const r = await api.call(method, path, { key: null, body: method === "POST" ? { image: "alpine", cpu: 0 } : undefined, query: { code: api.key } });
      expect([200, 400, 404], `${method} ${path} with ?code=`).toContain(r.status);
    }
  });

  it("never shows a secure value in any answer, error or log, whatever is asked", async () => {
    const secret = `s3cr3t-${randomBytes(12).toString("hex")}`;
    const spec = { image: "alpine", command: ["sh", "-c", "echo working; sleep 1; echo done"], secureEnv: { API_TOKEN: secret }, env: { MODE: "test" }, timeoutSeconds: 60 };

    const submitted = await api.post("/api/jobs", spec);
    expect(submitted.status).toBe(202);
    const id = submitted.json.id;
    await api.get("/api/jobs/" + id + "/logs", { query: { follow: true, wait: 1 } });
    const job = await api.waitFor(id, ended);
    expect(job.state).toBe("Succeeded");
    expect(job.spec.secureEnvNames).toEqual(["API_TOKEN"]);
    expect(job).not.toHaveProperty("sealedSecureEnv");
    await api.get(`/api/jobs/${id}/logs`, { query: { timestamps: true } });
    await api.get("/api/jobs", { query: { limit: 1000 } });
    await api.get("/api/pools");
    await api.get("/api/costs", { query: { by: "job" } });
    const run = await api.post("/api/run", { ...spec, waitSeconds: 30 });
    expect(run.status).toBe(200);

    // Bad requests that carry the secret: each must be refused without echoing it.
    const refused = [
      await api.post("/api/jobs", { ...spec, cpu: 0 }),
      await api.post("/api/jobs", `{"image":"alpine","secureEnv":{"API_TOKEN":${secret}}}`),
      await api.post("/api/jobs", `{"image":"alpine","secureEnv":{"API_TOKEN":"${secret}"} ]`),
      await api.post("/api/jobs", `image: alpine\nsecureEnv: {API_TOKEN: "${secret}"\n  bad: [`, { type: "application/yaml" }),
      await api.post("/api/jobs", `image: alpine\nsecureEnv:\n  API_TOKEN: ${secret}\n  API_TOKEN: ${secret}\n`, { type: "application/yaml" }),
      await api.post("/api/jobs", { ...spec, secureEnv: { API_TOKEN: secret, MODE: secret } }),
      await api.post("/api/jobs", { ...spec, secureEnv: { [`BAD-${secret}`]: secret } }),
      await api.post("/api/jobs", { ...spec, secureEnv: { API_TOKEN: [secret] } }),
      await api.post("/api/run", { ...spec, waitSeconds: secret }),
      await api.post("/api/jobs", JSON.stringify(spec), { type: "text/plain" }),
    ];
    for (const r of refused) expect([400, 415]).toContain(r.status);

    expect(api.answers.length).toBeGreaterThan(15);
    for (const a of api.answers) {
      expect(a.text).not.toContain(secret);
      for (const [, v] of a.headers) expect(v).not.toContain(secret);
    }
    expect(stack.hosts[0]!.output()).not.toContain(secret);
  });
});
