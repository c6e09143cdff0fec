/**
 * A write that keeps losing its race, against real Table storage: another writer changes
 * the entity just before each of ours lands, so every ETag-guarded write fails. Each
 * read-modify-write then gives up through the one helper (store/tables.ts) with
 * WriteContention, which says what it was doing, and leaves nothing half-written.
 */
import { randomBytes } from "node:crypto";
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createGitHubApi } from "../../src/github/api.js";
import { ClaimStore } from "../../src/github/claims.js";
import { parseWorkflowJobEvent } from "../../src/github/payload.js";
import { workflowJobPayload } from "../../tools/github/samples.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import { onCompleted, onQueued, type GitHubDeps } from "../../src/github/workflowJob.js";
import { buildDeps } from "../../src/composition.js";
import { TableLedgerStore } from "../../src/store/ledgerStore.js";
import { WriteContention, tableClient } from "../../src/store/tables.js";

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

/** A client on a fresh table whose `submitTransaction` always comes second to another writer. */
function alwaysBeatenLedger(): { table: TableClient; rival: TableClient } {
  const name = unique("contention");
  const table = tableClient(inject("storageConnectionString"), name);
  const rival = tableClient(inject("storageConnectionString"), name);
  const submit = table.submitTransaction.bind(table);
  table.submitTransaction = async (actions: TransactionAction[]) => {
    // The rival touches every entity the transaction updates, so their ETags go stale.
    for (const [kind, entity] of actions) {
      if (kind === "update") await rival.updateEntity({ partitionKey: entity.partitionKey, rowKey: entity.rowKey, rival: Date.now() }, "Merge");
    }
    return submit(actions);
  };
  return { table, rival };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Burst's GitHub side on Azurite, with a claims table whose every `updateEntity` comes
 * second to another writer. The GitHub API is never reached: no claim is ever won.
 */
function alwaysBeatenGitHub(): GitHubDeps {
  const env = {
    AzureWebJobsStorage: inject("storageConnectionString"),
    BURST_STORAGE_PREFIX: unique("c"),
    BURST_SECRET_KEY: randomBytes(32).toString("base64"),
    BURST_GITHUB_WEBHOOK_SECRET: "whsec",
    BURST_GITHUB_TOKEN: "ghp_unused",
    BURST_GITHUB_API_URL: "http://127.0.0.1:9",
    BURST_GITHUB_PROFILES: JSON.stringify({ profiles: { linux: { repository: "octo-org/octo-repo", labels: ["burst"] } } }),
  };
  const deps = buildDeps(loadConfig(env), quiet);
  const settings = loadGitHubSettings(env, new Set(deps.config.pools.keys()));
  const table = tableClient(env.AzureWebJobsStorage, settings.claimsTable);
  const rival = tableClient(env.AzureWebJobsStorage, settings.claimsTable);
  const update = table.updateEntity.bind(table);
  table.updateEntity = async (entity, mode, options) => {
    await rival.updateEntity({ partitionKey: entity.partitionKey, rowKey: entity.rowKey, rival: Date.now() }, "Merge");
    return update(entity, mode, options);
  };
  return { deps, settings, api: createGitHubApi(settings.apiUrl, settings.auth), claims: new ClaimStore(table), leaseMs: 0 };
}

function event(action: "queued" | "completed", id: number) {
  const parsed = parseWorkflowJobEvent(workflowJobPayload(action, { id, labels: ["burst"], repository: "octo-org/octo-repo", conclusion: "success" }));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.event;
}

/** A claim some delivery left behind (its lease long over), for the next delivery to take over or close. */
async function leftClaim(g: GitHubDeps, workflowJobId: number): Promise<void> {
  const long = new Date(Date.now() - 3_600_000).toISOString();
  expect(await g.claims.insert({ workflowJobId, status: "claimed", generation: 1, claimedAt: long, updatedAt: long, jobId: "jleft", profile: "linux" })).toBeTruthy();
}

describe("a write that keeps losing its race", () => {
  it("settling a slot gives up with WriteContention naming the pool and the job, and the slot stays held", async () => {
    const { table } = alwaysBeatenLedger();
    const ledger = new TableLedgerStore(table);
    const now = new Date();
    const holder = { attempt: 1, reservedUsd: 0.5, day: now.toISOString().slice(0, 10), month: now.toISOString().slice(0, 7), since: now.toISOString() };
    const entry = { key: "wait-x", jobId: "j1", worstUsd: 0.5 };
    await ledger.addWaiting("p", entry);
    // The first admission creates the admission entity, so there is nothing yet for the rival to change.
    expect(await ledger.admit(await ledger.snapshot("p", now), [{ entry, holder }])).toBe(true);

    const settling = ledger.settle("p", "j1", 1, 0.25, 10, now);
    await expect(settling).rejects.toBeInstanceOf(WriteContention);
    await expect(settling).rejects.toThrow("pool p: settling job j1 attempt 1: still losing to concurrent writers after 30 tries");
    const after = await ledger.snapshot("p", now);
    expect(after.holders.j1).toEqual(holder);
    expect(after.spentDayUsd).toBe(0);
    await table.deleteTable();
  });

  it("a queued delivery taking over a claim gives up with WriteContention naming the workflow job", async () => {
    const g = alwaysBeatenGitHub();
    await leftClaim(g, 701);
    const delivery = onQueued(g, event("queued", 701));
    await expect(delivery).rejects.toBeInstanceOf(WriteContention);
    await expect(delivery).rejects.toThrow("workflow job 701: claiming it: still losing to concurrent writers after 10 tries");
    expect((await g.claims.get(701))?.value).toMatchObject({ status: "claimed", generation: 1 });
  });

  it("a completed delivery closing a claim gives up with WriteContention naming the workflow job", async () => {
    const g = alwaysBeatenGitHub();
    await leftClaim(g, 702);
    const delivery = onCompleted(g, event("completed", 702));
    await expect(delivery).rejects.toBeInstanceOf(WriteContention);
    await expect(delivery).rejects.toThrow("workflow job 702: closing its claim: still losing to concurrent writers after 10 tries");
    expect((await g.claims.get(702))?.value.status).toBe("claimed");
  });
});
