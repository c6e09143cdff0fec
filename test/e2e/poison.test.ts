/**
 * Nothing is lost when a submission keeps failing: on its last try Burst parks a copy of
 * it in the poison queue (its secure values sealed, never in clear), the reconciler warns
 * about it, and once the cause is gone it is sent back, landing on the very job the
 * original message would have made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../src/scheduler/reconcile.js";
import { jobIdForMessage } from "../../src/scheduler/ids.js";
import { freePort } from "../../tools/launcher/net.js";
import { ROOT, startHostProcess, type HostProcess } from "../support/hostProcess.js";
import { Api, startApiStack } from "../api/apiClient.js";
import type { Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

describe("the poison queues", () => {
  let stack: Stack;
  let api: Api;
  let broken: HostProcess | undefined;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({ pools: { default: { maxConcurrency: 2, resourceGroup: `rg-poison-${Date.now()}` } } }));
  });
  afterAll(async () => {
    await broken?.stop();
    await stack?.stop();
  });

  it("parks a submission that keeps failing with its secure values sealed, and redrives it to the job it would have made", async () => {
    const secret = `token-${Date.now()}-never-in-clear`;
    // A host whose table storage is unreachable: every submission fails, as in a long storage outage.
    // Five tries, each through the Storage SDK's own retries, take about a minute; more on a busy machine.
    await Promise.all(stack.hosts.map((h) => h.stop()));
    const dead = await freePort();
    const connection = stack.env.AzureWebJobsStorage!.replace(/TableEndpoint=http:\/\/[^:]+:\d+/, `TableEndpoint=http://127.0.0.1:${dead}`);
    broken = await startHostProcess({ appDir: ROOT, env: { ...stack.env, AzureWebJobsStorage: connection } });
    api = new Api(broken.url, api.key);

    const sent = await stack.enqueueRaw(Buffer.from(JSON.stringify({ image: "alpine", command: ["sh", "-c", "echo token is set"], timeoutSeconds: 60, secureEnv: { TOKEN: secret } })).toString("base64"));
    const parked = await waitUntil(async () => {
      const peek = await stack.deps.poison.peek("jobs");
      return peek.find((m) => m.text.includes(sent.messageId));
    }, { what: `message ${sent.messageId} to be parked in the jobs poison queue`, timeoutMs: 120_000, intervalMs: 250 });
    // What sits in the poison queue names the original message and holds the secure value sealed.
    expect(parked.text).not.toContain(secret);
    expect(JSON.parse(parked.text)).toMatchObject({ burstParked: { messageId: sent.messageId, tries: 5 }, specs: [{ image: "alpine", sealedSecureEnv: expect.any(String) }] });
    // The original message is gone from the jobs queue (deleted, not moved as bytes).
    const depths = (await api.get("/api/poison")).json.queues as { queue: string; depth: number }[];
    expect(depths.find((q) => q.queue === "jobs")!.depth).toBe(1);

    // The reconciler says so.
    const warnings: string[] = [];
    const report = await reconcile({ ...stack.deps, log: { info() {}, warn: (m) => void warnings.push(m), error() {} } });
    expect(report.poisonedMessages).toBe(1);
    expect(warnings.join("\n")).toMatch(/messages wait in poison queues: jobs 1/);

    // The cause goes away; the message goes back and becomes the job its original would have been.
    await broken.stop();
    broken = undefined;
    api = new Api((await stack.addHost()).url, api.key);
    const redrive = await api.post("/api/poison/jobs/redrive", { ids: [parked.id] });
    expect(redrive.json).toEqual({ queue: "jobs", redriven: [parked.id], missing: [] });
    const jobId = jobIdForMessage(sent.messageId, new Date(JSON.parse(parked.text).burstParked.insertionTime));
    const job = await stack.waitFor(jobId);
    expect(job.state).toBe("Succeeded");
    expect(job.spec).toMatchObject({ secureEnvNames: ["TOKEN"] });
    expect((await api.get("/api/poison/jobs")).json.messages).toEqual([]);
  }, 210_000);

  it("shows, purges and refuses what it should, naming the queue", async () => {
    await stack.deps.poison.park("monitor", JSON.stringify({ jobId: "jdoesnotexist", attempt: 1, seq: 0 }));
    const shown = await api.get("/api/poison/monitor");
    expect(shown.json.messages).toEqual([expect.objectContaining({ encoding: "base64", text: '{"jobId":"jdoesnotexist","attempt":1,"seq":0}' })]);
    const id = shown.json.messages[0].id as string;
    expect((await api.post("/api/poison/monitor/purge", { ids: [id, "00000000-0000-0000-0000-000000000000"] })).json).toEqual({ queue: "monitor", purged: [id], missing: ["00000000-0000-0000-0000-000000000000"] });
    expect((await api.get("/api/poison/nope")).status).toBe(404);
    expect((await api.post("/api/poison/monitor/purge", { everything: true })).status).toBe(400);
  });
});
