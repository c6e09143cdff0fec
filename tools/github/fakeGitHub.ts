/**
 * A stand-in for the slice of GitHub's REST API that Burst calls, shaped like the real
 * responses (docs.github.com/rest/actions/self-hosted-runners, /rest/apps/apps): JIT
 * runner configurations for repositories and organisations, runner get and delete,
 * and installation access tokens for a GitHub App (the JWT is verified with the App's
 * public key). For tests and for running the whole flow locally; never for production.
 */
import http from "node:http";
import { createPublicKey, createVerify, randomBytes, type KeyObject } from "node:crypto";

export interface FakeRunner {
  id: number;
  name: string;
  scope: string;
  labels: string[];
  runnerGroupId: number;
  workFolder?: string;
  busy: boolean;
  status: "online" | "offline";
}

export interface FakeRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
  status: number;
}

export interface FakeGitHubOptions {
  port?: number;
  host?: string;
  /** A personal access token the fake accepts. */
  token?: string;
  /** A GitHub App: installation tokens are issued for JWTs it signed. */
  app?: { appId: string; publicKey: string | KeyObject };
  /** The encoded_jit_config returned for a runner (default: a realistic-looking random one). */
  jitConfig?: (runner: FakeRunner) => string;
}

export interface FakeGitHub {
  url: string;
  runners: Map<number, FakeRunner>;
  requests: FakeRequest[];
  /** The JIT configuration requests that succeeded (each registered a runner). */
  mints(): FakeRequest[];
  /** Makes the next `count` JIT requests ("mint") or runner GET/DELETEs ("runner") fail with `status`. */
  failNext(what: "mint" | "runner", count: number, status?: number): void;
  setBusy(runnerId: number, busy: boolean): void;
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest/actions/self-hosted-runners";

function defaultJit(r: FakeRunner): string {
  const file = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");
  return Buffer.from(JSON.stringify({
    ".runner": file({ agentId: String(r.id), agentName: r.name, poolId: String(r.runnerGroupId), serverUrl: "https://pipelines.actions.githubusercontent.com/fake", workFolder: r.workFolder ?? "_work", ephemeral: "true" }),
    ".credentials": file({ scheme: "OAuth", data: { clientId: randomBytes(16).toString("hex"), authorizationUrl: "https://vstoken.actions.githubusercontent.com/fake" } }),
    ".credentials_rsaparams": file({ d: randomBytes(64).toString("base64"), modulus: randomBytes(64).toString("base64") }),
  })).toString("base64");
}

function verifyJwt(jwt: string, key: KeyObject, appId: string): string | undefined {
  const [h, p, s] = jwt.split(".");
  if (!h || !p || !s) return "A JSON web token could not be decoded";
  let header: { alg?: string };
  let claims: { iss?: unknown; exp?: number; iat?: number };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString());
    claims = JSON.parse(Buffer.from(p, "base64url").toString());
  } catch {
    return "A JSON web token could not be decoded";
  }
  if (header.alg !== "RS256") return "A JSON web token could not be decoded";
  const ok = createVerify("RSA-SHA256").update(`${h}.${p}`).verify(key, Buffer.from(s, "base64url"));
  if (!ok) return "A JSON web token could not be decoded";
  const now = Math.floor(Date.now() / 1000);
  if (String(claims.iss) !== appId) return "Integration not found";
  if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp - now > 600) return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof claims.iat !== "number" || claims.iat > now + 60) return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  return undefined;
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const runners = new Map<number, FakeRunner>();
  const requests: FakeRequest[] = [];
  const installationTokens = new Map<string, number>();
  const appKey = options.app ? (typeof options.app.publicKey === "string" ? createPublicKey(options.app.publicKey) : options.app.publicKey) : undefined;
  let nextRunnerId = 1000;
  const failures = { mint: { count: 0, status: 500 }, runner: { count: 0, status: 500 } };
  const failing = (what: "mint" | "runner") => {
    const f = failures[what];
    if (f.count <= 0) return undefined;
    f.count--;
    return f.status;
  };

  const authorized = (auth: string | undefined) => {
    const token = /^(?:Bearer|token) (\S+)$/i.exec(auth ?? "")?.[1];
    return Boolean(token && (token === options.token || installationTokens.has(token)));
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const method = (req.method ?? "GET").toUpperCase();
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    } catch {
      body = undefined;
    }
    const record: FakeRequest = { method, path: url.pathname, authorization: req.headers.authorization, body, status: 0 };
    requests.push(record);
    const send = (status: number, json?: unknown) => {
      record.status = status;
      res.writeHead(status, json === undefined ? {} : { "content-type": "application/json; charset=utf-8", "x-github-api-version-selected": "2022-11-28" });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    const notFound = () => send(404, { message: "Not Found", documentation_url: DOCS, status: "404" });

    const token = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (token && method === "POST") {
      if (!appKey || !options.app) return notFound();
      const jwt = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const problem = jwt ? verifyJwt(jwt, appKey, options.app.appId) : "A JSON web token could not be decoded";
      if (problem) return send(401, { message: problem, documentation_url: "https://docs.github.com/rest", status: "401" });
      const t = `ghs_${randomBytes(18).toString("base64url")}`;
      installationTokens.set(t, Number(token[1]));
      return send(201, {
        token: t,
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: { administration: "write", organization_self_hosted_runners: "write", metadata: "read" },
        repository_selection: "all",
      });
    }

    const m = /^\/(?:repos\/([^/]+)\/([^/]+)|orgs\/([^/]+))\/actions\/runners(?:\/(generate-jitconfig|\d+))?$/.exec(url.pathname);
    if (!m) return notFound();
    if (!authorized(req.headers.authorization)) return send(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
    const scope = m[3] ? `org:${m[3]}` : `repo:${m[1]}/${m[2]}`;
    if (m[4] === "generate-jitconfig" && method === "POST") {
      const failure = failing("mint");
      if (failure) return send(failure, { message: "Server Error", documentation_url: DOCS, status: String(failure) });
      const b = (body ?? {}) as { name?: unknown; runner_group_id?: unknown; labels?: unknown; work_folder?: unknown };
      const invalid =
        typeof b.name !== "string" || b.name === "" ? "name" :
        !Number.isInteger(b.runner_group_id) ? "runner_group_id" :
        !Array.isArray(b.labels) || b.labels.length < 1 || b.labels.length > 100 || !b.labels.every((l) => typeof l === "string") ? "labels" :
        b.work_folder !== undefined && typeof b.work_folder !== "string" ? "work_folder" : undefined;
      if (invalid) return send(422, { message: `Invalid request.\n\n"${invalid}" is missing or invalid.`, documentation_url: DOCS, status: "422" });
      if ([...runners.values()].some((r) => r.scope === scope && r.name === b.name)) {
        return send(409, { message: "Already exists - A runner with the same name already exists.", documentation_url: DOCS, status: "409" });
      }
      const runner: FakeRunner = { id: nextRunnerId++, name: b.name as string, scope, labels: b.labels as string[], runnerGroupId: b.runner_group_id as number, workFolder: b.work_folder as string | undefined, busy: false, status: "offline" };
      runners.set(runner.id, runner);
      return send(201, {
        runner: { id: runner.id, name: runner.name, os: "unknown", status: runner.status, busy: false, labels: runner.labels.map((name, i) => ({ id: i + 1, name, type: "custom" })) },
        encoded_jit_config: (options.jitConfig ?? defaultJit)(runner),
      });
    }
    const id = m[4] && /^\d+$/.test(m[4]) ? Number(m[4]) : undefined;
    const runner = id !== undefined ? runners.get(id) : undefined;
    const failure = id !== undefined ? failing("runner") : undefined;
    if (failure) return send(failure, { message: "Server Error", documentation_url: DOCS, status: String(failure) });
    if (id !== undefined && method === "GET") {
      if (!runner || runner.scope !== scope) return notFound();
      return send(200, { id: runner.id, name: runner.name, os: "Linux", status: runner.status, busy: runner.busy, labels: runner.labels.map((name, i) => ({ id: i + 1, name, type: "custom" })) });
    }
    if (id !== undefined && method === "DELETE") {
      if (!runner || runner.scope !== scope) return notFound();
      runners.delete(runner.id);
      return send(204);
    }
    return notFound();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    runners,
    requests,
    mints: () => requests.filter((r) => r.method === "POST" && r.path.endsWith("/generate-jitconfig") && r.status === 201),
    failNext(what, count, status = 500) {
      failures[what] = { count, status };
    },
    setBusy(runnerId, busy) {
      const r = runners.get(runnerId);
      if (r) Object.assign(r, { busy, status: busy ? "online" : r.status });
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
