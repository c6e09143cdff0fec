/**
 * The one config loader. App settings come from the environment (Azure Functions app
 * settings, or local.settings.json locally). Everything is validated when loaded, and
 * an error quotes the setting and the bad value.
 */
import { readFileSync } from "node:fs";
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { POOL_NAME, specErrors } from "./jobSpec.js";
import { BUILT_IN_PRICES, type PriceTable } from "./pricing.js";
import { keyRing, type KeyRing } from "./secrets.js";
import { ConfigError } from "./errors.js";
import { describeStorage, readStorageSettings, type StorageSettings } from "./storage.js";
import { parseScheduleSettings, type ScheduleDefinition } from "./schedules/model.js";
import { highestPrices, limitsSchema, placementId, type Placement } from "./placements.js";
import { poolEventsSchema, readPoolEventSecrets } from "./events/spec.js";

export { ConfigError };

const priceSchema = z.strictObject({
  vcpuSecondUsd: z.number().nonnegative(),
  gbSecondUsd: z.number().nonnegative(),
  source: z.string().min(1),
  date: z.string().min(1),
});

const placementSchema = z.strictObject({
  subscriptionId: z.string().regex(/^[0-9a-fA-F-]{1,64}$/),
  resourceGroup: z.string().regex(/^[-\w._()]{1,90}$/),
  region: z.string().regex(/^[a-z0-9]+$/),
  priority: z.enum(["Regular", "Spot"]).default("Regular"),
  prices: priceSchema.optional(),
  limits: limitsSchema.default(limitsSchema.parse({})),
});

/** The settings a placement list replaces: a pool gives either these or `placements`. */
const SINGLE_PLACEMENT_FIELDS = ["subscriptionId", "resourceGroup", "region", "prices", "limits"] as const;

export const poolSchema = z.strictObject({
  // At most 1,000: every slot holder lives in the pool's one admission entity (so one ETag guards
  // admission), and an entity holds at most 1 MiB; 1,000 holders take about 300 KB of it.
  maxConcurrency: z.number().int().min(1).max(1000),
  budget: z.strictObject({
    dailyUsd: z.number().positive().optional(),
    monthlyUsd: z.number().positive().optional(),
  }).default({}),
  subscriptionId: z.string().min(1).default("00000000-0000-0000-0000-000000000000"),
  resourceGroup: z.string().regex(/^[-\w._()]{1,90}$/).default("burst"),
  region: z.string().regex(/^[a-z0-9]+$/).default("eastus"),
  sku: z.enum(["Standard"]).default("Standard"),
  prices: priceSchema.optional(),
  /** The quota of the one placement above (a raised quota); with `placements`, each gives its own. */
  limits: limitsSchema.optional(),
  /** Where groups may go, tried in order (see placements.ts); without it, the one placement above. */
  placements: z.array(placementSchema).min(1).max(50).optional(),
  /** A job's `spot` when it gives none. */
  spot: z.enum(["never", "preferred", "required"]).default("preferred"),
  /** Waiting jobs allowed before submissions get 429. */
  maxWaiting: z.number().int().min(1).default(10_000),
  /** The share of the subscription's ARM read rate (25/s) this pool's polling may use. */
  armReadsPerSecond: z.number().positive().max(25).default(20),
  /** Retries for Azure's failures (capacity, pull, 5xx, eviction), apart from the job's own `retries`. */
  maxPlatformRetries: z.number().int().min(0).max(20).default(3),
  minPollSeconds: z.number().positive().default(1),
  maxPollSeconds: z.number().positive().default(15),
  /** Allowance for noticing a deadline by polling; reserved on top of each job's worst case. */
  enforcementSlackSeconds: z.number().nonnegative().default(20),
  /** A job that gives no timeoutSeconds gets this one: every job ends. */
  defaultTimeoutSeconds: z.number().int().min(1).max(30 * 86_400).default(3600),
  /** The longest timeoutSeconds a job may ask for in this pool. */
  maxTimeoutSeconds: z.number().int().min(1).max(30 * 86_400).default(86_400),
  /** The highest priority a job may ask for in this pool: anyone who can submit could otherwise jump every line. */
  maxPriority: z.number().int().min(-1000).max(1000).default(100),
  /** Order within a priority level: arrival, or by expected run time (expectedSeconds, else the learned estimate). */
  order: z.enum(["fifo", "longest-first", "shortest-first"]).default("longest-first"),
  /** EASY backfill: later jobs may start past a budget-blocked head when they cannot delay its worst-case start (backfill.ts). */
  backfill: z.boolean().default(true),
  /** Finished jobs (record, logs, per-attempt cost rows) are deleted this long after they finish; day and month totals stay. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** Jobs that give no `notifyExit` get this one: their container reports its own exit (exitReport.ts). */
  notifyExit: z.boolean().default(false),
  /** With notifyExit on, the safety-net poll: how often a running job is still polled, in case its report never comes. */
  notifyPollSeconds: z.number().positive().max(3600).default(60),
  /** Completion events for the pool's jobs that ask for none; secrets by app setting name (events/spec.ts). */
  events: poolEventsSchema.optional(),
}).superRefine((p, ctx) => {
  if (p.defaultTimeoutSeconds > p.maxTimeoutSeconds) {
    ctx.addIssue({ code: "custom", path: ["defaultTimeoutSeconds"], message: `must not be more than maxTimeoutSeconds (${p.maxTimeoutSeconds})` });
  }
});

export type PoolConfigInput = z.input<typeof poolSchema>;
export interface PoolConfig extends Omit<z.output<typeof poolSchema>, "prices" | "placements"> {
  name: string;
  /** Prices no placement exceeds: admission's worst cases use them (see highestPrices). */
  prices: PriceTable;
  /** At least one; subscriptionId, resourceGroup and region above are the first one's. */
  placements: Placement[];
}

export interface StorageNames {
  jobsQueue: string;
  /**
   * The scheduler's own delayed steps, one queue so that an idle host polls one queue for
   * them instead of three: polls `{jobId, attempt, seq}`, launches `{step: "launch", jobId}`
   * and pool wake-ups `{step: "pump", pool}` (store/outbox.ts).
   */
  monitorQueue: string;
  /** Exit reports that containers post themselves (notifyExit, see exitReport.ts). */
  exitsQueue: string;
  /** Completion events waiting for delivery (events/deliver.ts). */
  eventsQueue: string;
  jobsTable: string;
  /** Job ids by creation time, both ways, for listing newest (or oldest) first. */
  jobIndexTable: string;
  ledgerTable: string;
  /** One claim per GitHub workflow job (see github/claims.ts). */
  githubTable: string;
  /** One record per schedule (see schedules/store.ts). */
  schedulesTable: string;
  /** Learned run times per job shape (durations.ts). */
  durationsTable: string;
  logsContainer: string;
  specsContainer: string;
}

/** Reading what Azure charged (Cost Management) to true up the estimates. */
export interface BillSettings {
  enabled: boolean;
  /** Read each pool's bill at most this often, across all instances. */
  checkSeconds: number;
  /** After this long since an attempt settled, its bill is taken as final (Azure finalises within about 72 hours). */
  finalSeconds: number;
}

export interface BurstConfig {
  /** The storage account: a connection string, or an identity (see storage.ts). */
  storage: StorageSettings;
  /** BURST_DEPLOYMENT_ID: tags every container group; the reconciler deletes only groups carrying it. */
  deploymentId: string;
  names: StorageNames;
  pools: Map<string, PoolConfig>;
  /** Unset means real Azure Resource Manager with DefaultAzureCredential. */
  armEndpoint?: string;
  /** The local ACI emulator's per-run token (BURST_EMULATOR_TOKEN); only sent to an http:// endpoint. */
  emulatorToken?: string;
  /** BURST_SECRET_KEY seals; BURST_OLD_SECRET_KEYS only open (see secrets.ts). */
  secrets: KeyRing;
  /** Per pool, the webhook secret and Event Grid key of its default events, read from the app settings it names; never stored. */
  poolEventSecrets?: Map<string, { secret?: string; eventGridKey?: string }>;
  maxArmConcurrency: number;
  /** BURST_ARM_SHARE: the part of each of a subscription's ARM buckets this instance paces its calls within (armPacer.ts). */
  armShare: number;
  bills: BillSettings;
  /** When the reconciler's timer fires (BURST_RECONCILE_SCHEDULE), as checked by reconcileSchedule. */
  reconcileSchedule: string;
  /** When the schedules' timer looks for due ticks (BURST_SCHEDULE_CHECK, default every 15 s). */
  scheduleCheck: string;
  /** Schedules defined by BURST_SCHEDULES(_FILE), kept in the schedules table by each check. */
  schedules: ScheduleDefinition[];
}

export function storageNames(prefix: string): StorageNames {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(prefix)) {
    throw new ConfigError(`BURST_STORAGE_PREFIX must be a lowercase letter followed by up to 30 lowercase letters, digits or dashes, got ${JSON.stringify(prefix)}`);
  }
  const table = prefix.replace(/-/g, "");
  return {
    jobsQueue: `${prefix}-jobs`,
    monitorQueue: `${prefix}-monitor`,
    exitsQueue: `${prefix}-exits`,
    eventsQueue: `${prefix}-events`,
    jobsTable: `${table}Jobs`,
    jobIndexTable: `${table}JobIndex`,
    ledgerTable: `${table}Ledger`,
    githubTable: `${table}GitHub`,
    schedulesTable: `${table}Schedules`,
    durationsTable: `${table}Durations`,
    logsContainer: `${prefix}-logs`,
    specsContainer: `${prefix}-specs`,
  };
}

export const DEFAULT_POOLS: Record<string, PoolConfigInput> = {
  default: { maxConcurrency: 10, resourceGroup: "burst-local" },
};

export function parsePools(doc: unknown, where: string): Map<string, PoolConfig> {
  const root = doc as { pools?: unknown } | null;
  if (!root || typeof root !== "object" || typeof root.pools !== "object" || root.pools === null || Array.isArray(root.pools)) {
    throw new ConfigError(`${where}: must have a "pools" object mapping pool names to settings`);
  }
  const out = new Map<string, PoolConfig>();
  for (const [name, raw] of Object.entries(root.pools as Record<string, unknown>)) {
    if (!POOL_NAME.test(name)) throw new ConfigError(`${where}: pool name ${JSON.stringify(name)} must be 1-32 lowercase letters, digits or dashes`);
    const r = poolSchema.safeParse(raw, { error: (issue) => (issue.input === undefined ? "is required" : undefined) });
    if (!r.success) {
      // An unknown field first: it is usually the typo behind a "required" one.
      r.error.issues.sort((a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"));
      const issue = r.error.issues[0]!;
      const e = specErrors(r.error, poolSchema)[0]!;
      // The bad value, quoted (pool settings hold no secrets); an unknown field is its own quote.
      const value = issue.code === "unrecognized_keys" ? undefined : issue.path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
      throw new ConfigError(`${where}: pools.${name}.${e.field}: ${e.rule}${value === undefined ? "" : `, got ${JSON.stringify(value)}`}`);
    }
    out.set(name, { ...poolFrom(name, r.data, raw, where), name });
  }
  if (out.size === 0) throw new ConfigError(`${where}: "pools" must name at least one pool`);
  return out;
}

function poolFrom(name: string, data: z.output<typeof poolSchema>, raw: unknown, where: string): Omit<PoolConfig, "name"> {
  const { prices: given, limits, placements: listed, ...rest } = data;
  const at = `${where}: pools.${name}`;
  const pricesFor = (region: string, priority: string, prices: PriceTable | undefined, field: string) => {
    const found = prices ?? (priority === "Regular" ? BUILT_IN_PRICES[`${region}/${rest.sku}`] : undefined);
    if (!found) throw new ConfigError(`${at}.${field} is required: there is no built-in price table for ${region}/${rest.sku}${priority === "Spot" ? " Spot" : ""} (built in: ${Object.keys(BUILT_IN_PRICES).join(", ")})`);
    return found;
  };
  let placements: Placement[];
  if (listed) {
    const both = SINGLE_PLACEMENT_FIELDS.filter((f) => Object.hasOwn(raw as object, f));
    if (both.length) throw new ConfigError(`${at}: give either placements or ${both.join(", ")}, not both (each placement has its own)`);
    placements = listed.map((p, i) => {
      const base = { subscriptionId: p.subscriptionId.toLowerCase(), resourceGroup: p.resourceGroup, region: p.region, priority: p.priority };
      return { ...base, id: placementId(base), limits: p.limits, prices: pricesFor(p.region, p.priority, p.prices, `placements[${i}].prices`) };
    });
    const seen = new Map<string, number>();
    placements.forEach((p, i) => {
      if (seen.has(p.id)) throw new ConfigError(`${at}.placements[${i}]: must differ from placements[${seen.get(p.id)}] (both are ${p.id})`);
      seen.set(p.id, i);
    });
  } else {
    const base = { subscriptionId: rest.subscriptionId, resourceGroup: rest.resourceGroup, region: rest.region, priority: "Regular" as const };
    placements = [{ ...base, id: placementId(base), limits: limits ?? limitsSchema.parse({}), prices: pricesFor(rest.region, "Regular", given, "prices") }];
  }
  if (rest.spot === "required" && !placements.some((p) => p.priority === "Spot")) throw new ConfigError(`${at}.spot: "required" needs a Spot placement, got none`);
  if (rest.spot === "never" && !placements.some((p) => p.priority === "Regular")) throw new ConfigError(`${at}.spot: "never" needs a Regular placement, got only Spot ones`);
  const first = placements[0]!;
  return { ...rest, subscriptionId: first.subscriptionId, resourceGroup: first.resourceGroup, region: first.region, placements, prices: highestPrices(placements) };
}

/**
 * A JSON or YAML document given by an app setting: `<NAME>_FILE` (a path) wins over
 * `<NAME>` (the text itself). Undefined when neither is set. `where` names the source for
 * error messages.
 */
export function readSettingDocument(env: NodeJS.ProcessEnv, name: string): { doc: unknown; where: string } | undefined {
  const file = env[`${name}_FILE`];
  let text: string;
  let where: string;
  if (file) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`${name}_FILE=${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
    }
    where = `${name}_FILE (${file})`;
  } else if (env[name]) {
    text = env[name]!;
    where = name;
  } else {
    return undefined;
  }
  try {
    return { doc: parseYaml(text), where };
  } catch (err) {
    throw new ConfigError(`${where} is not valid JSON or YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BurstConfig {
  const storage = readStorageSettings(env);
  const poolsDoc = readSettingDocument(env, "BURST_POOLS");
  const pools = poolsDoc ? parsePools(poolsDoc.doc, poolsDoc.where) : parsePools({ pools: DEFAULT_POOLS }, "default pools");
  const notifying = [...pools.values()].find((p) => p.notifyExit);
  if (notifying && storage.kind === "identity") {
    throw new ConfigError(`${poolsDoc?.where ?? "BURST_POOLS"}: pools.${notifying.name}.notifyExit needs the storage account's key to sign the exits queue's SAS (AzureWebJobsStorage as a connection string with AccountKey); with an identity-based connection it is not available`);
  }
  const key = (text: string, where: string) => {
    const k = Buffer.from(text.trim(), "base64");
    if (k.length !== 32) throw new ConfigError(`${where} must be 32 random bytes, base64-encoded (e.g. \`openssl rand -base64 32\`); it decodes to ${k.length} bytes`);
    return k;
  };
  const current = env.BURST_SECRET_KEY ? key(env.BURST_SECRET_KEY, "BURST_SECRET_KEY") : undefined;
  const old = (env.BURST_OLD_SECRET_KEYS ?? "").split(",").map((s) => s.trim()).filter(Boolean).map((k, i) => key(k, `BURST_OLD_SECRET_KEYS entry ${i + 1}`));
  const secrets = keyRing(current, old);
  const maxArm = Number(env.BURST_MAX_ARM_CONCURRENCY ?? "16");
  if (!Number.isInteger(maxArm) || maxArm < 1) throw new ConfigError(`BURST_MAX_ARM_CONCURRENCY must be a whole number ≥ 1, got ${JSON.stringify(env.BURST_MAX_ARM_CONCURRENCY)}`);
  const armShare = Number(env.BURST_ARM_SHARE ?? "0.8");
  if (!(armShare > 0 && armShare <= 1)) throw new ConfigError(`BURST_ARM_SHARE must be a number above 0 and at most 1 (the part of each subscription's ARM rate limits Burst may use), got ${JSON.stringify(env.BURST_ARM_SHARE)}`);
  const bills = readBillSettings(env);
  const armEndpoint = env.BURST_ARM_ENDPOINT || undefined;
  const schedulesDoc = readSettingDocument(env, "BURST_SCHEDULES");
  if (armEndpoint && !/^https?:\/\//.test(armEndpoint)) throw new ConfigError(`BURST_ARM_ENDPOINT must be an http(s) URL, got ${JSON.stringify(armEndpoint)}`);
  return {
    storage,
    deploymentId: deploymentId(env),
    names: storageNames(env.BURST_STORAGE_PREFIX || "burst"),
    pools,
    armEndpoint,
    emulatorToken: env.BURST_EMULATOR_TOKEN || undefined,
    secrets,
    poolEventSecrets: poolEventSecrets(pools, env, poolsDoc?.where ?? "default pools"),
    maxArmConcurrency: maxArm,
    armShare,
    bills,
    reconcileSchedule: reconcileSchedule(env.BURST_RECONCILE_SCHEDULE),
    scheduleCheck: reconcileSchedule(env.BURST_SCHEDULE_CHECK, "BURST_SCHEDULE_CHECK", "*/15 * * * * *"),
    schedules: schedulesDoc ? parseScheduleSettings(schedulesDoc.doc, schedulesDoc.where, pools, secrets) : [],
  };
}

function poolEventSecrets(pools: Map<string, PoolConfig>, env: NodeJS.ProcessEnv, where: string): Map<string, { secret?: string; eventGridKey?: string }> {
  const out = new Map<string, { secret?: string; eventGridKey?: string }>();
  for (const [name, pool] of pools) {
    if (!pool.events) continue;
    try {
      out.set(name, readPoolEventSecrets(pool.events, env, `pools.${name}.events`));
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`);
    }
  }
  return out;
}

const DEPLOYMENT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * BURST_DEPLOYMENT_ID, else the Function App's name (WEBSITE_SITE_NAME, which Azure sets),
 * else "local". Two deployments sharing a resource group and a pool name then each reap
 * only their own container groups. Lowercase, so ARM's case-insensitive names and the tag
 * always agree.
 */
export function deploymentId(env: NodeJS.ProcessEnv): string {
  const given = env.BURST_DEPLOYMENT_ID;
  if (given) {
    if (!DEPLOYMENT_ID.test(given)) throw new ConfigError(`BURST_DEPLOYMENT_ID must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit, got ${JSON.stringify(given)}`);
    return given;
  }
  const site = env.WEBSITE_SITE_NAME?.toLowerCase();
  if (site) {
    if (!DEPLOYMENT_ID.test(site)) throw new ConfigError(`WEBSITE_SITE_NAME (the default of BURST_DEPLOYMENT_ID) must be 1-63 letters, digits or dashes, got ${JSON.stringify(env.WEBSITE_SITE_NAME)}; set BURST_DEPLOYMENT_ID`);
    return site;
  }
  return "local";
}

const SCHEDULE_RULE = 'must be a 6-field NCRONTAB ("{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "*/30 * * * * *") or a TimeSpan ("hh:mm:ss")';

/**
 * BURST_RECONCILE_SCHEDULE (default every 30 s), or another timer's setting, checked with the rules the Functions host
 * applies to a timer's schedule. Checked here because the host would only refuse it while
 * indexing the function, naming neither the setting nor the rule.
 */
export function reconcileSchedule(text: string | undefined, setting = "BURST_RECONCILE_SCHEDULE", fallback = "*/30 * * * * *"): string {
  if (text === undefined || text.trim() === "") return fallback;
  const expr = text.trim();
  const bad = (why: string, cause?: unknown) => new ConfigError(`${setting} ${SCHEDULE_RULE}: ${why}, got ${JSON.stringify(text)}`, { cause });
  if (expr.includes(":")) {
    // TimeSpan: [d.]hh:mm:ss[.fffffff], as .NET parses it for the host (which refuses 24:00:00 and a zero interval).
    const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,7})?$/.exec(expr);
    if (!m) throw bad("it is not a TimeSpan");
    const [days, h, min, s, frac] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number];
    if (h > 23 || min > 59 || s > 59) throw bad("hours go up to 23, minutes and seconds up to 59");
    if (days + h + min + s + frac === 0) throw bad("the interval must be more than zero");
    return expr;
  }
  const fields = expr.split(/\s+/);
  if (fields.length !== 6) throw bad(`it has ${fields.length} field${fields.length === 1 ? "" : "s"}`);
  try {
    CronExpressionParser.parse(expr, { tz: "UTC" });
  } catch (err) {
    throw bad((err as Error).message.split("\n")[0]!, err);
  }
  return expr;
}

function readBillSettings(env: NodeJS.ProcessEnv): BillSettings {
  const flag = (env.BURST_BILLS ?? "on").toLowerCase();
  if (flag !== "on" && flag !== "off") throw new ConfigError(`BURST_BILLS must be "on" or "off", got ${JSON.stringify(env.BURST_BILLS)}`);
  const seconds = (name: string, fallback: number) => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number of seconds ≥ 0, got ${JSON.stringify(text)}`);
    return n;
  };
  return { enabled: flag === "on", checkSeconds: seconds("BURST_BILL_CHECK_SECONDS", 3600), finalSeconds: seconds("BURST_BILL_FINAL_SECONDS", 72 * 3600) };
}

/**
 * Every app setting Burst reads, checked at once: the host refuses to load the app, and
 * `npm start` to start, rather than answer every call with a 500 later. GitHub's settings
 * are checked when any of them is set. Returns a one-line account of what was loaded.
 */
export function checkAppSettings(env: NodeJS.ProcessEnv, loadGitHub: (env: NodeJS.ProcessEnv, pools: ReadonlySet<string>) => unknown): string {
  const config = loadConfig(env);
  const github = Object.keys(env).some((k) => k.startsWith("BURST_GITHUB_") && env[k]);
  if (github) loadGitHub(env, new Set(config.pools.keys()));
  const pools = [...config.pools.values()].map((p) => `${p.name} (${p.maxConcurrency} at a time${p.budget.dailyUsd !== undefined ? `, $${p.budget.dailyUsd}/day` : ""}${p.budget.monthlyUsd !== undefined ? `, $${p.budget.monthlyUsd}/month` : ""})`);
  return `pools: ${pools.join(", ")}; GitHub runners ${github ? "configured" : "not configured"}`;
}

/**
 * One line saying which configuration a command acts on, without secrets: where Storage
 * and ARM are, the storage prefix and the pools. Admin commands print it, so acting on the
 * wrong account is seen at once.
 */
export function describeConfig(config: BurstConfig): string {
  const storage = describeStorage(config.storage);
  const arm = config.armEndpoint ? `ARM at ${config.armEndpoint}` : "Azure Resource Manager";
  const pools = [...config.pools.values()].map((p) => `${p.name} (${p.subscriptionId}/${p.resourceGroup}, ${p.region})`).join(", ");
  return `storage ${storage}, prefix ${config.names.jobsQueue.replace(/-jobs$/, "")}; ${arm}; pools ${pools}; deployment ${config.deploymentId}`;
}
