import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { workflowJobPayload } from "../../tools/github/samples.js";
import { runnerJobId } from "../../src/github/runnerJob.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import { deliver, startGitHubStack, type GitHubStack } from "./support.js";

const ORG = "octo-org";
const APP_ID = "123456";

describe("as a GitHub App, for an organisation", () => {
  let g: GitHubStack;
  // GitHub hands out App keys as PKCS#1 PEM; app settings often carry them on one line with literal \n.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  let ids = 500_000 + Math.floor(Math.random() * 1_000_000) * 100;
  const queued = (id: number, installationId: number | null = 4242) => workflowJobPayload("queued", { id, labels: ["self-hosted", "burst"], repository: `${ORG}/some-repo`, installationId });
  const jobIdFor = (id: number) => runnerJobId(loadGitHubSettings(g.stack.env, new Set(["default"])).profiles[0]!, id);
  const tokenRequests = () => g.github.requests.filter((r) => r.path.startsWith("/app/installations/"));

  beforeAll(async () => {
    g = await startGitHubStack({
      profiles: { org: { organization: ORG, labels: ["self-hosted", "burst"], command: [], cpu: 1, memoryGb: 1, timeoutSeconds: 600, runnerGroupId: 3 } },
      github: { app: { appId: APP_ID, publicKey } },
      env: { BURST_GITHUB_APP_ID: APP_ID, BURST_GITHUB_APP_PRIVATE_KEY: privateKey.replace(/\n/g, "\\n") },
    });
  });
  afterAll(async () => { await g?.stop(); });

  it("mints organisation runners with an installation token, fetched once with the App's JWT and then reused", async () => {
    const first = ++ids;
    const second = ++ids;
    expect((await deliver(g, { payload: queued(first) })).status).toBe(201);
    expect((await deliver(g, { payload: queued(second) })).status).toBe(201);

    expect(tokenRequests().map((r) => [r.method, r.path, r.status])).toEqual([["POST", "/app/installations/4242/access_tokens", 201]]);
    const mints = g.github.mints();
    expect(mints.map((m) => m.path)).toEqual([`/orgs/${ORG}/actions/runners/generate-jitconfig`, `/orgs/${ORG}/actions/runners/generate-jitconfig`]);
    expect(mints.every((m) => /^Bearer ghs_/.test(m.authorization ?? ""))).toBe(true);
    expect(mints[0]!.body).toMatchObject({ runner_group_id: 3, labels: ["self-hosted", "burst"] });

    for (const id of [first, second]) {
      const job = await g.stack.waitFor(jobIdFor(id));
      expect(job.state).toBe("Succeeded");
      expect(job.source).toMatchObject({ scope: `org:${ORG}`, installationId: 4242, repository: `${ORG}/some-repo` });
    }
  });

  it("answers 502 when the delivery names no installation, and a redelivery that does launches under a new runner name", async () => {
    const id = ++ids;
    const without = await deliver(g, { payload: queued(id, null) });
    expect(without.status).toBe(502);
    expect(String(without.body.error)).toMatch(/installation/);
    expect(await g.stack.deps.jobs.get(jobIdFor(id))).toBeUndefined();

    const r = await deliver(g, { payload: queued(id) });
    expect(r).toMatchObject({ status: 201, body: { outcome: "launched" } });
    expect(g.github.mints().filter((m) => (m.body as { name: string }).name.includes(jobIdFor(id))).map((m) => (m.body as { name: string }).name)).toEqual([`burst-${jobIdFor(id)}-2`]);
    expect((await g.stack.waitFor(jobIdFor(id))).state).toBe("Succeeded");
  });

  it("answers 502 when GitHub fails the mint, and launches on the redelivery", async () => {
    const id = ++ids;
    g.github.failNext("mint", 1, 503);
    const failed = await deliver(g, { payload: queued(id) });
    expect(failed.status).toBe(502);
    expect(String(failed.body.error)).toMatch(/HTTP 503/);
    expect(await g.stack.deps.jobs.get(jobIdFor(id))).toBeUndefined();
    expect((await deliver(g, { payload: queued(id) })).status).toBe(201);
    expect((await g.stack.waitFor(jobIdFor(id))).state).toBe("Succeeded");
  });
});

describe("with invalid runner profiles", () => {
  it("the host refuses to start, naming the setting, the field and the bad value", async () => {
    await expect(startGitHubStack({ profiles: { big: { repository: "octo-org/octo-repo", labels: ["self-hosted", "burst"], cpu: 64 } } }))
      .rejects.toThrow(/BURST_GITHUB_PROFILES: profiles\.big\.cpu: must be at most 31 vCPU.*got 64/);
  });
});
