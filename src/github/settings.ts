/**
 * The GitHub integration's app settings, validated when first needed (so a Burst that
 * does not use GitHub never has to set them). Errors name the setting and quote the
 * bad value — except for secrets, which are never repeated.
 */
import { ConfigError, storageNames } from "../config.js";
import { loadProfiles, type RunnerProfile } from "./profiles.js";

export type GitHubAuthSettings =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: string; privateKey: string };

export interface GitHubSettings {
  webhookSecret: string;
  /** REST API base URL without a trailing slash (GHES: https://HOST/api/v3). */
  apiUrl: string;
  auth: GitHubAuthSettings;
  profiles: RunnerProfile[];
  /** Table of workflow-job claims (see claims.ts). */
  claimsTable: string;
}

export function claimsTableName(env: NodeJS.ProcessEnv): string {
  // storageNames validates the prefix and names every table, this one included.
  return storageNames(env.BURST_STORAGE_PREFIX || "burst").githubTable;
}

function authSettings(env: NodeJS.ProcessEnv): GitHubAuthSettings {
  const token = env.BURST_GITHUB_TOKEN;
  const appId = env.BURST_GITHUB_APP_ID;
  const key = env.BURST_GITHUB_APP_PRIVATE_KEY;
  if (token && (appId || key)) throw new ConfigError("set either BURST_GITHUB_TOKEN or BURST_GITHUB_APP_ID with BURST_GITHUB_APP_PRIVATE_KEY, not both");
  if (token) return { kind: "token", token };
  if (!appId && !key) throw new ConfigError("no GitHub credentials: set BURST_GITHUB_APP_ID and BURST_GITHUB_APP_PRIVATE_KEY (a GitHub App), or BURST_GITHUB_TOKEN");
  if (!appId || !/^\d+$/.test(appId)) throw new ConfigError(`BURST_GITHUB_APP_ID must be the App's numeric id, got ${JSON.stringify(appId ?? "")}`);
  if (!key) throw new ConfigError("BURST_GITHUB_APP_PRIVATE_KEY is not set: it must hold the App's private key (PEM)");
  // App settings often carry the PEM on one line with literal \n.
  const privateKey = key.includes("\\n") ? key.replace(/\\n/g, "\n") : key;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) throw new ConfigError("BURST_GITHUB_APP_PRIVATE_KEY must be a PEM private key (-----BEGIN RSA PRIVATE KEY----- ...); the value is not shown");
  return { kind: "app", appId, privateKey };
}

export function loadGitHubSettings(env: NodeJS.ProcessEnv, pools: ReadonlySet<string>): GitHubSettings {
  const webhookSecret = env.BURST_GITHUB_WEBHOOK_SECRET;
  if (!webhookSecret) throw new ConfigError("BURST_GITHUB_WEBHOOK_SECRET is not set: it must hold the webhook's secret, as entered in GitHub");
  const apiUrl = (env.BURST_GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(apiUrl)) throw new ConfigError(`BURST_GITHUB_API_URL must be an http(s) URL, got ${JSON.stringify(env.BURST_GITHUB_API_URL)}`);
  return { webhookSecret, apiUrl, auth: authSettings(env), profiles: loadProfiles(env, pools), claimsTable: claimsTableName(env) };
}
