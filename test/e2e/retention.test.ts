/**
 * Retention through the local stack: the reconciler deletes finished jobs past their
 * pool's retentionDays or their own ttlSecondsAfterFinished — record, listing rows, every
 * log segment, cost rows and GitHub claim — in bounded batches, once under concurrency,
 * and keeps the day and month totals. Time is moved with an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobServiceClient } from "@azure/storage-blob";
import { loadConfig } from "../../src/config.js";
import { buildDeps } from "../../src/composition.js";
import { reconcile } from "../../src/scheduler/reconcile.js";
import { deleteExpiredJobs } from "../../src/scheduler/retention.js";
import { submitJob } from "../../src/scheduler/submit.js";
import { ClaimStore } from "../../src/github/claims.js";
import { tableClient } from "../../src/store/tables.js";
import type { Deps } from "../../src/scheduler/deps.js";
import { quietLog, startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

const DAY = 86_400_000;

describe("retention", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      pools: {
        default: { maxConcurrency: 10, resourceGroup: `rg-ret-${Date.now()}` },
        short: { maxConcurrency: 10, resourceGroup: `rg-ret-s-${Date.now()}`, retentionDays: 1 },
      },
      // The hosts' own reconciler (real time) never finds anything due here; the tests move time themselves.
      env: { BURST_BILLS: "off", BURST_RECONCILE_SCHEDULE: "0 0 0 1 1 *" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const at = (offsetMs: number, deps: Deps = stack.deps): Deps => ({ ...deps, clock: { now: () => new Date(Date.now() + offsetMs) } });
  // A record turns final before its index rows are rewritten (jobStore.ts), so a test waits for the retention row too.
  const retained = (id: string) =>
    waitUntil(async () => (await indexRowsOf(id)).some((p) => p?.startsWith("finished-") || p === "expires") || undefined, {
      what: `job ${id}'s retention row`,
    });
  const run = async (specs: object[]) => {
    const jobs = await stack.waitForAll(await Promise.all(specs.map((s) => stack.enqueue({ image: "alpine", timeoutSeconds: 60, ...s }))));
    for (const j of jobs) await retained(j.id);
    return jobs;
  };
  const indexRowsOf = async (id: string) => {
    const rows = [];
    for await (const e of tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.jobIndexTable).listEntities({
      queryOptions: { filter: `jobId eq '${id}'` },
    }))
      rows.push(e.partitionKey);
    return rows.sort();
  };
  const blobsOf = async (id: string) => {
    const names = [];
    const c = BlobServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getContainerClient(
      stack.deps.config.names.logsContainer,
    );
    for await (const b of c.listBlobsFlat({ prefix: `jobs/${id}/` })) names.push(b.name);
    return names.sort();
  };
  const costRowsOf = async (id: string) => {
    const out = [];
    for await (const r of stack.deps.ledger.costRows(undefined)) if (r.jobId === id) out.push(r);
    return out;
  };
  const totals = async () => {
    const out: Record<string, number> = {};
    for await (const t of stack.deps.ledger.totals(undefined)) out[`${t.pool}/${t.window}`] = t.spentUsd;
    return out;
  };
  const apiCosts = async (by: string) =>
    (await (await fetch(`${stack.hosts[0]!.url}/api/costs?by=${by}&code=${stack.env.BURST_API_KEY ?? "burst-local-key"}`)).json()) as {
      rows: Record<string, unknown>[];
      total: { costUsd: number; attempts: number; jobs: number };
      windows: { window: string; spentUsd: number }[];
    };

  it("deletes at most the batch a run, and the next run goes on where it stopped", async () => {
    const jobs = await run(Array.from({ length: 7 }, () => ({ pool: "short", command: ["true"] })));
    const later = at(2 * DAY);
    expect((await reconcile(later, { retentionBatch: 3 })).jobsDeleted).toBe(3);
    expect((await Promise.all(jobs.map((j) => stack.deps.jobs.get(j.id)))).filter(Boolean)).toHaveLength(4);
    expect((await reconcile(later, { retentionBatch: 3 })).jobsDeleted).toBe(3);
    expect((await reconcile(later, { retentionBatch: 3 })).jobsDeleted).toBe(1);
    expect((await reconcile(later, { retentionBatch: 3 })).jobsDeleted).toBe(0);
    for (const j of jobs) expect(await stack.deps.jobs.get(j.id)).toBeUndefined();
  });

  it("removes a job past its pool's retention with its index rows, every log segment, cost rows and GitHub claim, and keeps the day and month totals", async () => {
    const [old, kept] = await run([
      { pool: "short", command: ["sh", "-c", "echo one; echo two"] },
      { pool: "default", command: ["echo", "kept"] },
    ]);
    // A runner job, as the GitHub integration submits it, with its claim.
    const { job: runner } = await submitJob(
      stack.deps,
      { image: "alpine", pool: "short", command: ["true"], timeoutSeconds: 60 },
      { internalKey: "retention-test", source: { workflowJobId: 4242 } },
    );
    const runnerDone = await stack.waitFor(runner.id);
    const claims = new ClaimStore(tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.githubTable));
    const now = new Date().toISOString();
    await claims.insert({ workflowJobId: 4242, status: "closed", generation: 1, claimedAt: now, updatedAt: now, jobId: runner.id });
    // A second log segment, as a long job's log rolls over.
    const logs = BlobServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!).getContainerClient(
      stack.deps.config.names.logsContainer,
    );
    await logs.getAppendBlobClient(`jobs/${old!.id}/attempt-1.log.1`).create();
    expect(await blobsOf(old!.id)).toEqual([`jobs/${old!.id}/attempt-1.log`, `jobs/${old!.id}/attempt-1.log.1`]);
    expect(await indexRowsOf(old!.id)).toEqual(["finished-short", "newest", "oldest"]);
    expect(await costRowsOf(old!.id)).toHaveLength(1);
    const totalsBefore = await totals();
    const [byPool, byDay] = [await apiCosts("pool"), await apiCosts("day")];
    const deletedBefore = (await apiCosts("job")).rows.find((r) => r.job === "(deleted)" && r.pool === "short") ?? {
      costUsd: 0,
      attempts: 0,
    };

    const report = await reconcile(at(2 * DAY));
    expect(report).toMatchObject({ jobsDeleted: 2, errors: 0 });
    for (const id of [old!.id, runner.id]) {
      expect(await stack.deps.jobs.get(id)).toBeUndefined();
      expect(await indexRowsOf(id)).toEqual([]);
      expect(await blobsOf(id)).toEqual([]);
      expect(await costRowsOf(id)).toEqual([]);
    }
    expect(await claims.get(4242)).toBeUndefined();
    // Within its pool's 30 days: untouched.
    expect((await stack.deps.jobs.get(kept!.id))?.value.state).toBe("Succeeded");
    expect(await blobsOf(kept!.id)).toHaveLength(1);
    expect(await costRowsOf(kept!.id)).toHaveLength(1);
    // Budgets read these: unchanged. And the reports still add up to every cent.
    expect(await totals()).toEqual(totalsBefore);
    const [afterPool, afterDay, afterJob] = [await apiCosts("pool"), await apiCosts("day"), await apiCosts("job")];
    expect(afterPool.total).toEqual(byPool.total);
    expect(afterPool.rows).toEqual(byPool.rows);
    expect(afterDay.rows).toEqual(byDay.rows);
    expect(afterJob.total.costUsd).toBe(byPool.total.costUsd);
    const deleted = afterJob.rows.find((r) => r.job === "(deleted)" && r.pool === "short")!;
    expect(deleted.costUsd).toBeCloseTo(Number(deletedBefore.costUsd) + old!.costUsd + runnerDone.costUsd, 9);
    expect(deleted.attempts).toBe(Number(deletedBefore.attempts) + 2);
    expect(afterJob.rows.some((r) => r.job === old!.id)).toBe(false);
  });

  it("lets ttlSecondsAfterFinished override the pool's retention, shorter or longer", async () => {
    const [soon, late] = await run([
      { pool: "default", command: ["true"], ttlSecondsAfterFinished: 3600 },
      { pool: "short", command: ["true"], ttlSecondsAfterFinished: 5 * 86_400 },
    ]);
    expect(await indexRowsOf(soon!.id)).toEqual(["expires", "newest", "oldest"]);
    expect((await deleteExpiredJobs(at(2 * 3600_000))).deleted).toBe(1);
    expect(await stack.deps.jobs.get(soon!.id)).toBeUndefined();
    // Past the pool's one day, within its own five.
    expect((await deleteExpiredJobs(at(2 * DAY))).deleted).toBe(0);
    expect(await stack.deps.jobs.get(late!.id)).toBeDefined();
    expect((await deleteExpiredJobs(at(6 * DAY))).deleted).toBe(1);
    expect(await stack.deps.jobs.get(late!.id)).toBeUndefined();
  });

  it("keeps a due job whose bill is still open, while bills are read", async () => {
    const [job] = await run([{ pool: "short", command: ["true"] }]);
    const billing = { ...stack.deps, config: { ...stack.deps.config, bills: { ...stack.deps.config.bills, enabled: true } } };
    expect(await deleteExpiredJobs(at(2 * DAY, billing))).toEqual({ deleted: 0, held: 1, errors: 0 });
    expect(await stack.deps.jobs.get(job!.id)).toBeDefined();
    expect((await deleteExpiredJobs(at(2 * DAY))).deleted).toBe(1);
  });

  it("deletes each job once when two reconcilers run at once, without errors", async () => {
    const jobs = await run(Array.from({ length: 8 }, () => ({ pool: "short", command: ["echo", "x"] })));
    const sumBefore = (await apiCosts("pool")).total.costUsd;
    const other = buildDeps(loadConfig(stack.env), quietLog);
    const [a, b] = await Promise.all([deleteExpiredJobs(at(2 * DAY)), deleteExpiredJobs(at(2 * DAY, other))]);
    expect(a.errors + b.errors).toBe(0);
    expect(a.deleted + b.deleted).toBe(8);
    for (const j of jobs) {
      expect(await stack.deps.jobs.get(j.id)).toBeUndefined();
      expect(await indexRowsOf(j.id)).toEqual([]);
      expect(await blobsOf(j.id)).toEqual([]);
    }
    // Each job's cost went into the retired sums once.
    expect((await apiCosts("pool")).total.costUsd).toBeCloseTo(sumBefore, 9);
  });

  it("finds jobs that finished before retention existed, through a one-time backfill", async () => {
    const [job] = await run([{ pool: "short", command: ["true"] }]);
    // As a job stored by an earlier version: no retention row, and no backfill done yet.
    const index = tableClient(stack.env.AzureWebJobsStorage!, stack.deps.config.names.jobIndexTable);
    const row = (
      await index.listEntities({ queryOptions: { filter: `jobId eq '${job!.id}' and PartitionKey eq 'finished-short'` } }).next()
    ).value!;
    await index.deleteEntity(row.partitionKey!, row.rowKey!);
    await index.deleteEntity("meta", "retention-backfill").catch(() => undefined);
    expect(await indexRowsOf(job!.id)).toEqual(["newest", "oldest"]);
    expect((await deleteExpiredJobs(at(2 * DAY))).deleted).toBe(1);
    expect(await stack.deps.jobs.get(job!.id)).toBeUndefined();
    expect((await index.getEntity("meta", "retention-backfill")).done).toBe(true);
  });

  it("lets an idempotencyKey make a new job once its job is deleted, as documented", async () => {
    const spec = { image: "alpine", pool: "short", command: ["true"], timeoutSeconds: 60, idempotencyKey: `ret-${Date.now()}` };
    const first = await stack.waitFor((await submitJob(stack.deps, spec)).job.id);
    await retained(first.id);
    expect((await submitJob(stack.deps, spec)).created).toBe(false);
    expect((await deleteExpiredJobs(at(2 * DAY))).deleted).toBe(1);
    const again = await submitJob(stack.deps, spec);
    expect(again).toMatchObject({ created: true, job: { id: first.id } });
    const second = await stack.waitFor(first.id);
    expect(second.createdAt > first.createdAt).toBe(true);
    // The index rows follow the record's final write: wait for them, as for the first run.
    await retained(first.id);
    expect(await indexRowsOf(first.id)).toEqual(["finished-short", "newest", "oldest"]);
  });
});
