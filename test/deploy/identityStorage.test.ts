/**
 * The token path for real: Azurite over HTTPS (a self-signed certificate made here) with
 * `--oauth basic`, which accepts bearer tokens after checking their issuer, audience and
 * lifetime. The local host runs Burst with the identity-based settings the template sets
 * (service URIs, `__credential: managedidentity`, `__clientId`) and no account key or
 * connection string anywhere in its environment. Its managed identity is the App Service
 * protocol (IDENTITY_ENDPOINT + IDENTITY_HEADER, as Azure Functions provides it), served
 * here by a small token endpoint, so the real ManagedIdentityCredential fetches the tokens.
 * A job then goes the whole way: HTTP submit, queues, tables, ACI, logs, finish.
 */
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, DEV_ACCOUNT, DEV_ACCOUNT_KEY, type RunningAzurite } from "../../tools/launcher/azurite.js";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { ROOT, startHostProcess, uniqueName, type HostProcess } from "../support/hostProcess.js";
import { runOneJob } from "./oneJob.js";

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** A JWT shaped like an Entra ID token for Storage; Azurite's basic check does not verify signatures. */
function storageToken(lifetimeSeconds: number, audience = "https://storage.azure.com"): { token: string; expiresOn: number } {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud: audience,
    iss: "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
    iat: now - 60,
    nbf: now - 60,
    exp: now + lifetimeSeconds,
    oid: randomUUID(),
  };
  const unsigned = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return { token: `${unsigned}.${b64url(createHmac("sha256", "test").update(unsigned).digest())}`, expiresOn: now + lifetimeSeconds };
}

describe("identity-based storage", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "burst-oauth-"));
  const cert = path.join(dir, "cert.pem");
  const clientId = randomUUID();
  const identityHeader = randomBytes(16).toString("hex");
  const tokenRequests: URLSearchParams[] = [];
  let azurite: RunningAzurite;
  let emulator: RunningEmulator;
  let tokens: http.Server;
  let host: HostProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "ignore" },
    );
    azurite = await startAzurite({ extraArgs: ["--oauth", "basic", "--cert", cert, "--key", path.join(dir, "key.pem")] });
    // The App Service managed identity endpoint: GET ?resource=…&api-version=2019-08-01[&client_id=…] with X-IDENTITY-HEADER.
    tokens = http.createServer((req, res) => {
      const q = new URL(req.url ?? "/", "http://x").searchParams;
      tokenRequests.push(q);
      if (req.headers["x-identity-header"] !== identityHeader) return void res.writeHead(401).end();
      const { token, expiresOn } = storageToken(3600, q.get("resource") ?? undefined);
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          access_token: token,
          expires_on: String(expiresOn),
          resource: q.get("resource"),
          token_type: "Bearer",
          client_id: q.get("client_id"),
        }),
      );
    });
    await new Promise<void>((resolve) => tokens.listen(0, "127.0.0.1", resolve));
    const emulatorToken = randomBytes(16).toString("hex");
    emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 200, startDelayMs: 50 }, token: emulatorToken });
    const uri = (port: number) => `https://127.0.0.1:${port}/${DEV_ACCOUNT}`;
    env = {
      AzureWebJobsStorage: "",
      AzureWebJobsStorage__blobServiceUri: uri(azurite.ports.blob),
      AzureWebJobsStorage__queueServiceUri: uri(azurite.ports.queue),
      AzureWebJobsStorage__tableServiceUri: uri(azurite.ports.table),
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: clientId,
      IDENTITY_ENDPOINT: `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/msi/token`,
      IDENTITY_HEADER: identityHeader,
      // Trust for the self-signed certificate, as a private CA would be trusted.
      NODE_EXTRA_CA_CERTS: cert,
      BURST_STORAGE_PREFIX: uniqueName("id").replace(/-/g, ""),
      BURST_ARM_ENDPOINT: emulator.url,
      BURST_EMULATOR_TOKEN: emulatorToken,
      BURST_POOLS: JSON.stringify({ pools: { default: { maxConcurrency: 2, resourceGroup: `rg-id-${Date.now()}` } } }),
      BURST_SECRET_KEY: randomBytes(32).toString("base64"),
      BURST_DEPLOYMENT_ID: "burst-identity",
      BURST_HOST_ID: uniqueName("host"),
      BURST_BILLS: "off",
    };
    host = await startHostProcess({ appDir: ROOT, env });
  });

  afterAll(async () => {
    await host?.stop();
    await emulator?.close();
    await azurite?.stop();
    await new Promise((resolve) => tokens?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a job the whole way with tokens from the managed identity and no account key anywhere", async () => {
    const childEnv = { ...process.env, ...env };
    expect(
      Object.values(childEnv).filter((v) => v?.includes(DEV_ACCOUNT_KEY) || /AccountKey=|SharedAccessSignature=/i.test(v ?? "")),
    ).toEqual([]);
    const job = await runOneJob(host, "echo signed in; exit 0");
    expect(job.state).toBe("Succeeded");
    expect(job.logs).toContain("signed in");
    // The tokens came from the managed identity, for Storage, as the user-assigned identity.
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((q) => q.get("resource") === "https://storage.azure.com" && q.get("client_id") === clientId)).toBe(true);
  });

  it("is refused by Azurite without a valid token, so the passing run above did sign in", async () => {
    const list = (authorization?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(
          `${env.AzureWebJobsStorage__queueServiceUri}?comp=list`,
          { ca: readFileSync(cert), headers: { "x-ms-version": "2021-12-02", ...(authorization ? { authorization } : {}) } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    expect(await list(`Bearer ${storageToken(3600).token}`)).toBe(200);
    expect(await list(`Bearer ${storageToken(-120).token}`)).toBe(403);
    expect(await list(`Bearer ${storageToken(3600, "https://management.azure.com").token}`)).toBe(403);
  });
});
