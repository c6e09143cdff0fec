/**
 * The few GitHub REST calls Burst makes: mint a just-in-time runner configuration,
 * look a runner up, and remove a runner's registration. Authenticated as a GitHub App
 * installation (@octokit/auth-app, tokens cached until shortly before they expire) or
 * with a token. Response bodies are never logged or put in errors: the JIT
 * configuration is a credential.
 */
import { createAppAuth } from "@octokit/auth-app";
import { request as octokitRequest } from "@octokit/request";
import type { GitHubAuthSettings } from "./settings.js";
import type { Scope } from "./profiles.js";

export const API_VERSION = "2022-11-28";
const TIMEOUT_MS = 10_000;

export class GitHubApiError extends Error {
  override name = "GitHubApiError";
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface JitRequest {
  name: string;
  runner_group_id: number;
  labels: string[];
  work_folder: string;
}

export interface JitConfig {
  runnerId: number;
  runnerName: string;
  /** A credential: goes straight into a sealed secure value, nowhere else. */
  encodedJitConfig: string;
}

export interface RunnerInfo {
  id: number;
  name: string;
  status: string;
  busy: boolean;
}

export interface GitHubApi {
  generateJitConfig(scope: Scope, body: JitRequest, installationId?: number): Promise<JitConfig>;
  /** undefined when GitHub no longer knows the runner. */
  getRunner(scope: Scope, runnerId: number, installationId?: number): Promise<RunnerInfo | undefined>;
  /** false when it was already gone. */
  deleteRunner(scope: Scope, runnerId: number, installationId?: number): Promise<boolean>;
}

function runnersPath(scope: Scope): string {
  return scope.kind === "repository"
    ? `/repos/${encodeURIComponent(scope.owner)}/${encodeURIComponent(scope.repo)}/actions/runners`
    : `/orgs/${encodeURIComponent(scope.org)}/actions/runners`;
}

type TokenSource = (installationId?: number) => Promise<string>;

function tokenSource(apiUrl: string, auth: GitHubAuthSettings): TokenSource {
  if (auth.kind === "token") return async () => auth.token;
  const appAuth = createAppAuth({
    appId: auth.appId,
    privateKey: auth.privateKey,
    request: octokitRequest.defaults({ baseUrl: apiUrl, headers: { "user-agent": "burst", "x-github-api-version": API_VERSION } }),
  });
  return async (installationId) => {
    if (!installationId) throw new GitHubApiError("the webhook payload names no App installation (installation.id); is the webhook configured on the GitHub App?");
    try {
      return (await appAuth({ type: "installation", installationId })).token;
    } catch (err) {
      const status = (err as { status?: number }).status;
      throw new GitHubApiError(`GitHub App installation ${installationId}: cannot get an installation token (HTTP ${status ?? "?"}): ${githubMessage(err)}`, status);
    }
  };
}

function githubMessage(err: unknown): string {
  const data = (err as { response?: { data?: { message?: unknown } } }).response?.data;
  return typeof data?.message === "string" ? data.message : (err as Error).message;
}

export function createGitHubApi(apiUrl: string, auth: GitHubAuthSettings): GitHubApi {
  const token = tokenSource(apiUrl, auth);

  async function call(method: string, path: string, installationId: number | undefined, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${await token(installationId)}`,
        "user-agent": "burst",
        "x-github-api-version": API_VERSION,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: Error) => { throw new GitHubApiError(`${method} ${path}: ${err.message}`); });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  }

  const failure = (method: string, path: string, r: { status: number; json: unknown }) => {
    const message = (r.json as { message?: unknown } | undefined)?.message;
    return new GitHubApiError(`${method} ${path}: HTTP ${r.status}${typeof message === "string" ? `: ${message.slice(0, 300)}` : ""}`, r.status);
  };

  return {
    async generateJitConfig(scope, body, installationId) {
      const path = `${runnersPath(scope)}/generate-jitconfig`;
      const r = await call("POST", path, installationId, body);
      if (r.status !== 201 && r.status !== 200) throw failure("POST", path, r);
      const out = r.json as { runner?: { id?: unknown; name?: unknown }; encoded_jit_config?: unknown } | undefined;
      if (typeof out?.encoded_jit_config !== "string" || typeof out.runner?.id !== "number") {
        throw new GitHubApiError(`POST ${path}: the response has no runner.id or encoded_jit_config`, r.status);
      }
      return { runnerId: out.runner.id, runnerName: typeof out.runner.name === "string" ? out.runner.name : body.name, encodedJitConfig: out.encoded_jit_config };
    },
    async getRunner(scope, runnerId, installationId) {
      const path = `${runnersPath(scope)}/${runnerId}`;
      const r = await call("GET", path, installationId);
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw failure("GET", path, r);
      const j = r.json as RunnerInfo;
      return { id: j.id, name: j.name, status: j.status, busy: j.busy === true };
    },
    async deleteRunner(scope, runnerId, installationId) {
      const path = `${runnersPath(scope)}/${runnerId}`;
      const r = await call("DELETE", path, installationId);
      if (r.status === 404) return false;
      if (r.status !== 204 && r.status !== 200) throw failure("DELETE", path, r);
      return true;
    },
  };
}
