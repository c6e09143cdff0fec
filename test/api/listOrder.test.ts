import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableClient } from "../../src/store/tables.js";
import { reconcile } from "../../src/scheduler/reconcile.js";
import type { Stack } from "../support/harness.js";
import { cli } from "../cli/cli.js";
import { Api, ended, startApiStack } from "./apiClient.js";

const held = { image: "alpine", command: ["sleep", "120"], timeoutSeconds: 300, pool: "held" };

describe("listing jobs in creation order", () => {
  let stack: Stack;
  let api: Api;
  let env: Record<string, string>;
  let batch: string[];
  let latest: string;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack({
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-order-${Date.now()}` },
        // One slot: the first job runs, the rest wait, so listing never races a run.
        held: { maxConcurrency: 1, resourceGroup: `rg-order-held-${Date.now()}` },
      },
      // The reconciler runs when a test calls it: its timer (after the start-up run) would
      // repair the index these tests break before they can see who repaired it.
      env: { BURST_RECONCILE_SCHEDULE: "0 0 0 1 1 *" },
    }));
    env = { BURST_URL: stack.hosts[0]!.url, BURST_API_KEY: api.key };
    const r = await api.post("/api/jobs", Array.from({ length: 60 }, (_, i) => ({ ...held, name: `batch-${i}` })));
    expect(r.status).toBe(202);
    batch = r.json.map((j: { id: string }) => j.id);
    // A later millisecond than every job of the batch.
    await new Promise((r) => setTimeout(r, 5));
    latest = (await api.post("/api/jobs", { ...held, name: "latest" })).json.id;
  });
  afterAll(async () => { await stack?.stop(); });

  it("lists the job just submitted first, and says when the list is cut", async () => {
    const ls = await cli(["ls"], env);
    expect(ls.code).toBe(0);
    const rows = ls.stdout.trimEnd().split("\n").slice(1);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toMatch(new RegExp(`^${latest}\\s+latest\\s`));
    expect(ls.stderr).toBe("burst: showing the newest 50 jobs; there are more (raise --limit to see them)\n");
    const all = await cli(["ls", "--limit", "100", "-o", "json"], env);
    expect(all.stderr).toBe("");
    const listed = JSON.parse(all.stdout);
    expect(listed.more).toBe(false);
    expect(listed.jobs.map((j: { id: string }) => j.id)).toEqual([latest, ...listed.jobs.slice(1).map((j: { id: string }) => j.id)]);
    expect(listed.jobs.slice(1).map((j: { id: string }) => j.id).sort()).toEqual([...batch].sort());
  });

  it("lists oldest first with --sort oldest, and takes states in any case", async () => {
    const oldest = JSON.parse((await cli(["ls", "--sort", "oldest", "--limit", "100", "-o", "json"], env)).stdout).jobs;
    expect(oldest.at(-1).id).toBe(latest);
    const times = oldest.map((j: { createdAt: string }) => j.createdAt);
    expect(times).toEqual([...times].sort());
    const waiting = await cli(["ls", "--state", "waiting", "--pool", "held", "--limit", "100", "-o", "json"], env);
    expect(waiting.code).toBe(0);
    expect(JSON.parse(waiting.stdout).jobs.every((j: { state: string }) => j.state === "Waiting")).toBe(true);
    expect((await api.get("/api/jobs", { query: { state: "RUNNING" } })).status).toBe(200);
    const bad = await cli(["ls", "--sort", "sideways"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--sort <order>' argument 'sideways' is invalid\. must be one of newest, oldest/);
  });

  it("trusts the job record over a stale index row, and the reconciler repairs the index", async () => {
    const index = tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.jobIndexTable);
    const rows = async (id: string) => {
      const out: { partitionKey: string; rowKey: string; state: string }[] = [];
      // The listing's rows only: a finished job also has a retention row in this table.
      const filter = `jobId eq '${id}' and (PartitionKey eq 'newest' or PartitionKey eq 'oldest')`;
      for await (const e of index.listEntities<{ jobId: string; state: string }>({ queryOptions: { filter } })) out.push(e as never);
      return out;
    };
    // A job that ended, whose index row still says Running (as a write reordered by a crash could leave it).
    const done = (await api.post("/api/jobs", { image: "alpine", command: ["echo", "done"] })).json.id;
    await api.waitFor(done, ended);
    for (const row of await rows(done)) await index.updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, state: "Running" }, "Merge");
    const running = await api.get("/api/jobs", { query: { state: "Running", limit: 1000 } });
    expect(running.json.jobs.map((j: { id: string }) => j.id)).not.toContain(done);
    expect((await rows(done)).map((r) => r.state)).toEqual(["Succeeded", "Succeeded"]);

    // A waiting job whose index rows were never written: the reconciler writes them.
    const lost = batch[30]!;
    for (const row of await rows(lost)) await index.deleteEntity(row.partitionKey, row.rowKey);
    const before = await api.get("/api/jobs", { query: { pool: "held", limit: 1000 } });
    expect(before.json.jobs.map((j: { id: string }) => j.id)).not.toContain(lost);
    const report = await reconcile(stack.deps, { orphanGraceSeconds: 3600 });
    expect(report.indexRepaired).toBeGreaterThanOrEqual(1);
    const after = await api.get("/api/jobs", { query: { pool: "held", limit: 1000 } });
    expect(after.json.jobs.map((j: { id: string }) => j.id)).toContain(lost);
  });

  it("indexes jobs stored before the index existed, once", async () => {
    const index = tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.jobIndexTable);
    // As an older Burst left it: jobs, and no index rows at all.
    for await (const e of index.listEntities()) await index.deleteEntity(e.partitionKey!, e.rowKey!);
    expect((await api.get("/api/jobs", { query: { limit: 1000 } })).json.jobs).toEqual([]);
    const first = await reconcile(stack.deps, { orphanGraceSeconds: 3600 });
    expect(first.indexRepaired).toBeGreaterThanOrEqual(62);
    const listed = (await api.get("/api/jobs", { query: { limit: 1000 } })).json.jobs.map((j: { id: string }) => j.id);
    expect(listed).toEqual(expect.arrayContaining([latest, ...batch]));
    expect((await reconcile(stack.deps, { orphanGraceSeconds: 3600 })).indexRepaired).toBe(0);
  });
});
