/**
 * Runner profiles: which GitHub Actions jobs Burst serves, and with what runner.
 *
 * A profile names a label set, a GitHub scope (one repository or one organisation)
 * and the job template for the runner. A queued workflow job matches a profile when
 * its repository is in the profile's scope and **every one of its `runs-on` labels is
 * in the profile's label set** (case-insensitively, as GitHub compares labels) — the
 * same rule GitHub uses to decide whether a runner with those labels can take the job.
 * The first matching profile, in the order written, wins.
 */
import { z } from "zod";
import { ConfigError, readSettingDocument } from "../config.js";
import { POOL_NAME, specErrors, validateSpec, type JobSpecInput } from "../jobSpec.js";
import type { SpecError } from "../model.js";

/** The secure variable the runner reads its JIT configuration from (`--jitconfig`, as ACTIONS_RUNNER_INPUT_<ARG>). */
export const JITCONFIG_VAR = "ACTIONS_RUNNER_INPUT_JITCONFIG";
/** The official image (github.com/actions/runner, images/Dockerfile) has no entrypoint of its own; this starts the runner. */
export const DEFAULT_RUNNER_COMMAND = ["/home/runner/run.sh"];
export const DEFAULT_RUNNER_IMAGE = "ghcr.io/actions/actions-runner";

const PROFILE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
// GitHub labels may not contain commas (they are comma-separated in config.sh) and are trimmed.
const LABEL = /^[^,\s](?:[^,]*[^,\s])?$/;
const REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
const ORGANIZATION = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

const profileSchema = z.strictObject({
  labels: z.array(z.string({ error: "must be a string" }).max(256, { error: "must be at most 256 characters" })
    .regex(LABEL, { error: "must be a runner label: no commas, no leading or trailing spaces" }), { error: "is required and must be a list of runner labels" })
    .min(1, { error: "must list at least one label" }).max(100, { error: "must have at most 100 labels (GitHub's limit)" }),
  repository: z.string({ error: "must be a string" }).regex(REPOSITORY, { error: "must be owner/name" }).optional(),
  organization: z.string({ error: "must be a string" }).regex(ORGANIZATION, { error: "must be an organisation login" }).optional(),
  pool: z.string({ error: "must be a string" }).regex(POOL_NAME, { error: "must be 1-32 lowercase letters, digits or dashes" }).default("default"),
  image: z.string({ error: "must be a string" }).default(DEFAULT_RUNNER_IMAGE),
  /** Omitted: the official image's run.sh. `[]`: the image's own entrypoint (derived images; the local emulator's stand-in). */
  command: z.array(z.string({ error: "must be a string" }), { error: "must be an array of strings" }).default(DEFAULT_RUNNER_COMMAND),
  env: z.record(z.string(), z.string({ error: "must be a string" }), { error: "must map names to strings" }).optional(),
  cpu: z.number({ error: "must be a number" }).default(2),
  memoryGb: z.number({ error: "must be a number" }).default(4),
  timeoutSeconds: z.number({ error: "must be a number" }).default(3600),
  maxCostUsd: z.number({ error: "must be a number" }).optional(),
  priority: z.number({ error: "must be a number" }).default(0),
  runnerGroupId: z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).default(1),
  workFolder: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(256, { error: "must be at most 256 characters" }).default("_work"),
  /**
   * Off by default: anyone can open a pull request against a public repository, and a
   * fork's pull request can change `runs-on` and get a runner with network access, billed
   * to the pool. See docs/github.md, "Public repositories and forks".
   */
  allowPublicRepositories: z.boolean({ error: "must be true or false" }).default(false),
}).superRefine((p, ctx) => {
  if (!p.repository === !p.organization) {
    ctx.addIssue({ code: "custom", path: ["repository"], message: "exactly one of repository (owner/name) or organization must be set" });
  }
  if (p.env && JITCONFIG_VAR in p.env) ctx.addIssue({ code: "custom", path: ["env", JITCONFIG_VAR], message: "is set by Burst (the runner's JIT configuration, as a secure value)" });
});

export type RunnerProfileInput = z.input<typeof profileSchema>;
export type RunnerProfile = z.output<typeof profileSchema> & { name: string; scope: Scope };

export type Scope = { kind: "repository"; owner: string; repo: string } | { kind: "organization"; org: string };

export function scopeText(scope: Scope): string {
  return scope.kind === "repository" ? `repo:${scope.owner}/${scope.repo}` : `org:${scope.org}`;
}

/** The job spec fields a profile supplies, checked with the job spec's own rules. */
export function runnerSpecBase(p: RunnerProfile): JobSpecInput {
  return {
    image: p.image,
    ...(p.command.length > 0 ? { command: p.command } : {}),
    ...(p.env ? { env: p.env } : {}),
    cpu: p.cpu, memoryGb: p.memoryGb, timeoutSeconds: p.timeoutSeconds,
    ...(p.maxCostUsd !== undefined ? { maxCostUsd: p.maxCostUsd } : {}),
    pool: p.pool, priority: p.priority, retries: 0,
  };
}

function valueAt(root: unknown, field: string): unknown {
  let v: unknown = root;
  for (const part of field.split(/\.|\[(\d+)\]/).filter(Boolean)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function fail(where: string, name: string, raw: unknown, e: SpecError): never {
  // A runner's env may carry secrets (a JIT configuration, a token): those values are never repeated.
  if (/^env[.[]/.test(e.field)) throw new ConfigError(`${where}: profiles.${name}.${e.field}: ${e.rule}; the value is not shown`);
  const got = valueAt(raw, e.field);
  const quoted = got === undefined ? "" : `, got ${JSON.stringify(got)?.slice(0, 200)}`;
  throw new ConfigError(`${where}: profiles.${name}.${e.field}: ${e.rule}${quoted}`);
}

/** Validates a profiles document ({ profiles: { name: {...} } }); errors name the setting, the field and the bad value. */
export function parseProfiles(doc: unknown, where: string, pools: ReadonlySet<string>): RunnerProfile[] {
  const root = doc as { profiles?: unknown } | null;
  if (!root || typeof root !== "object" || typeof root.profiles !== "object" || root.profiles === null || Array.isArray(root.profiles)) {
    throw new ConfigError(`${where}: must have a "profiles" object mapping profile names to runner profiles, got ${JSON.stringify(doc)?.slice(0, 200)}`);
  }
  const out: RunnerProfile[] = [];
  for (const [name, raw] of Object.entries(root.profiles as Record<string, unknown>)) {
    if (!PROFILE_NAME.test(name)) throw new ConfigError(`${where}: profile name ${JSON.stringify(name)} must be a lowercase letter followed by up to 31 lowercase letters, digits or dashes`);
    const r = profileSchema.safeParse(raw);
    if (!r.success) fail(where, name, raw, specErrors(r.error)[0]!);
    const p = r.data;
    const scope: Scope = p.repository
      ? { kind: "repository", owner: p.repository.split("/")[0]!, repo: p.repository.split("/")[1]! }
      : { kind: "organization", org: p.organization! };
    const profile: RunnerProfile = { ...p, name, scope };
    const spec = validateSpec(runnerSpecBase(profile));
    if (!spec.ok) fail(where, name, raw, spec.errors[0]!);
    if (!pools.has(p.pool)) {
      throw new ConfigError(`${where}: profiles.${name}.pool: must name a configured pool (${[...pools].join(", ")}), got ${JSON.stringify(p.pool)}`);
    }
    out.push(profile);
  }
  if (out.length === 0) throw new ConfigError(`${where}: "profiles" must name at least one runner profile`);
  return out;
}

/** Reads profiles from BURST_GITHUB_PROFILES_FILE (a path) or BURST_GITHUB_PROFILES (JSON or YAML text). */
export function loadProfiles(env: NodeJS.ProcessEnv, pools: ReadonlySet<string>): RunnerProfile[] {
  const given = readSettingDocument(env, "BURST_GITHUB_PROFILES");
  if (!given) throw new ConfigError("BURST_GITHUB_PROFILES (or BURST_GITHUB_PROFILES_FILE) is not set: it must hold the runner profiles (see docs/github.md)");
  return parseProfiles(given.doc, given.where, pools);
}

export interface JobContext {
  labels: readonly string[];
  /** owner/name */
  repository: string;
  /** The repository is public (or its visibility is not stated). */
  public: boolean;
}

function inScope(scope: Scope, repository: string): boolean {
  const [owner, repo] = repository.toLowerCase().split("/");
  return scope.kind === "repository"
    ? owner === scope.owner.toLowerCase() && repo === scope.repo.toLowerCase()
    : owner === scope.org.toLowerCase();
}

/** The first profile whose scope holds the repository and whose labels include every label of the job. */
export function matchProfile(profiles: readonly RunnerProfile[], job: JobContext): RunnerProfile | undefined {
  if (job.labels.length === 0) return undefined;
  const wanted = job.labels.map((l) => l.toLowerCase());
  return profiles.find((p) => {
    if (!inScope(p.scope, job.repository)) return false;
    if (job.public && !p.allowPublicRepositories) return false;
    const offered = new Set(p.labels.map((l) => l.toLowerCase()));
    return wanted.every((l) => offered.has(l));
  });
}

/** The inverse of scopeText, for scopes kept in a job's source. */
export function parseScope(text: string): Scope | undefined {
  const repo = /^repo:([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (repo) return { kind: "repository", owner: repo[1]!, repo: repo[2]! };
  const org = /^org:(\S+)$/.exec(text);
  return org ? { kind: "organization", org: org[1]! } : undefined;
}
