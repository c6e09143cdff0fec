/**
 * GitHub end-to-end helpers: a whole local Burst (test/support/stack.ts) with the
 * GitHub settings pointed at a fake GitHub REST API on a free port, signed webhook
 * deliveries over HTTP, and a search of everything the stack stored.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { TableServiceClient, TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import type { PoolConfigInput } from "../../src/config.js";
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from "../../tools/github/fakeGitHub.js";
import { signBody } from "../../src/github/signature.js";
import { ClaimStore } from "../../src/github/claims.js";
import { claimsTableName } from "../../src/github/settings.js";
import type { JobRecord } from "../../src/model.js";
import { tableClient } from "../../src/store/tables.js";
import { startStack, type Stack } from "../support/harness.js";

export interface GitHubStack {
  stack: Stack;
  github: FakeGitHub;
  secret: string;
  hook: string;
  claims: ClaimStore;
  stop(): Promise<void>;
}

export async function startGitHubStack(options: {
  profiles: Record<string, unknown>;
  pools?: Record<string, PoolConfigInput>;
  github?: FakeGitHubOptions;
  /** App settings beyond the defaults (token auth against the fake). */
  env?: Record<string, string>;
}): Promise<GitHubStack> {
  const secret = `whsec-${randomBytes(12).toString("hex")}`;
  const token = `ghp_${randomBytes(18).toString("hex")}`;
  const github = await startFakeGitHub({ token, ...options.github });
  let stack: Stack;
  try {
    stack = await startStack({
      pools: options.pools,
      env: {
        BURST_GITHUB_WEBHOOK_SECRET: secret,
        BURST_GITHUB_API_URL: github.url,
        ...(options.github?.app ? {} : { BURST_GITHUB_TOKEN: token }),
        BURST_GITHUB_PROFILES: JSON.stringify({ profiles: options.profiles }),
        ...options.env,
      },
    });
  } catch (err) {
    await github.close();
    throw err;
  }
  const claims = new ClaimStore(tableClient(stack.env.AzureWebJobsStorage!, claimsTableName(stack.env)));
  return {
    stack, github, secret, claims,
    hook: `${stack.hosts[0]!.url}/api/github/webhook`,
    async stop() {
      await stack.stop();
      await github.close();
    },
  };
}

export interface Delivery {
  event?: string;
  payload: unknown;
  /** Defaults to a fresh GUID, as GitHub sends; pass one to redeliver. */
  delivery?: string;
  /** Sign with this secret instead of the right one; null sends no signature. */
  secret?: string | null;
  /** Replaces the body after signing (tampering). */
  body?: string;
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
}

export async function deliver(g: GitHubStack, d: Delivery): Promise<PostResult> {
  const body = JSON.stringify(d.payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/test",
    "x-github-event": d.event ?? "workflow_job",
    "x-github-delivery": d.delivery ?? randomUUID(),
    "x-github-hook-id": "1",
  };
  if (d.secret !== null) headers["x-hub-signature-256"] = signBody(d.secret ?? g.secret, body);
  const res = await fetch(g.hook, { method: "POST", headers, body: d.body ?? body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Waits until `jobId`'s record satisfies `done` (the scheduler moves it on its own). */
export function waitForJob(g: GitHubStack, jobId: string, done: (j: JobRecord) => boolean): Promise<JobRecord> {
  return g.stack.waitFor(jobId, done);
}

/** Group names the emulator was asked to create for a job, with how often. */
export function createsFor(g: GitHubStack, jobId: string): Record<string, number> {
  return Object.fromEntries(Object.entries(g.stack.emulator.stats().createsByName).filter(([name]) => name.includes(jobId)));
}

/**
 * Every place this stack stores text: each entity of its tables, each blob of its
 * containers, each message of its queues (peeked, as stored and base64-decoded).
 */
export async function storedTexts(stack: Stack): Promise<{ where: string; text: string }[]> {
  const conn = stack.env.AzureWebJobsStorage!;
  const prefix = stack.prefix;
  const out: { where: string; text: string }[] = [];
  const insecure = { allowInsecureConnection: true };
  for await (const t of TableServiceClient.fromConnectionString(conn, insecure).listTables()) {
    if (!t.name?.toLowerCase().startsWith(prefix)) continue;
    for await (const e of TableClient.fromConnectionString(conn, t.name, insecure).listEntities()) {
      out.push({ where: `table ${t.name} ${e.partitionKey}/${e.rowKey}`, text: JSON.stringify(e) });
    }
  }
  const blobs = BlobServiceClient.fromConnectionString(conn);
  for await (const c of blobs.listContainers({ prefix })) {
    const container = blobs.getContainerClient(c.name);
    for await (const b of container.listBlobsFlat()) {
      out.push({ where: `blob ${c.name}/${b.name}`, text: (await container.getBlobClient(b.name).downloadToBuffer()).toString("utf8") });
    }
  }
  const queues = QueueServiceClient.fromConnectionString(conn);
  for await (const q of queues.listQueues({ prefix })) {
    const peeked = await queues.getQueueClient(q.name).peekMessages({ numberOfMessages: 32 });
    for (const m of peeked.peekedMessageItems) {
      out.push({ where: `queue ${q.name}`, text: `${m.messageText}\n${Buffer.from(m.messageText, "base64").toString("utf8")}` });
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
