/**
 * The GitHub integration's process-wide dependencies, built on first use from app
 * settings on top of the scheduler's (src/composition.ts). Settings are read lazily so a
 * Burst without GitHub settings still loads every function.
 */
import { appStorage, deps } from "../composition.js";
import { createGitHubApi } from "./api.js";
import { ClaimStore } from "./claims.js";
import { loadGitHubSettings } from "./settings.js";
import type { WebhookEnv } from "./webhook.js";
import type { GitHubDeps } from "./workflowJob.js";

let shared: GitHubDeps | undefined;

export function githubDeps(env: NodeJS.ProcessEnv = process.env): GitHubDeps {
  if (shared) return shared;
  const d = deps();
  const settings = loadGitHubSettings(env, new Set(d.config.pools.keys()));
  shared = {
    deps: d,
    settings,
    api: createGitHubApi(settings.apiUrl, settings.auth),
    claims: new ClaimStore(appStorage().table(settings.claimsTable)),
  };
  return shared;
}

export const processWebhookEnv: WebhookEnv = {
  webhookSecret: () => process.env.BURST_GITHUB_WEBHOOK_SECRET || undefined,
  github: () => githubDeps(),
  log: (level, message) => deps().log[level](message),
};
