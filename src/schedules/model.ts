/**
 * Schedules: a stored job template plus a cron expression, with Kubernetes CronJob's
 * policies. This module holds the definition's rules (one zod schema; the template is
 * checked exactly as a submission is) and the cron arithmetic; store.ts keeps records,
 * fire.ts decides and fires ticks.
 */
import { z } from "zod";
import { CronExpressionParser } from "cron-parser";
import { specErrors, validateSpec, type JobSpec } from "../jobSpec.js";
import { applyPool } from "../poolRules.js";
import type { PoolConfig } from "../config.js";
import type { KeyRing } from "../secrets.js";
import type { SpecError } from "../model.js";
import { ConfigError } from "../errors.js";

export const SCHEDULE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,50}[a-z0-9])?$/;
export const SCHEDULE_LABEL = "burst-schedule";
export const CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

/** The definition as given (API body, config entry). `job` is checked by validateSpec, not here. */
export const scheduleSchema = z.strictObject({
  name: z
    .string()
    .regex(SCHEDULE_NAME, { error: "must be 1-52 lowercase letters, digits or dashes, starting and ending with a letter or digit" }),
  cron: z.string().min(1),
  timeZone: z.string().min(1).default("UTC"),
  concurrency: z.enum(CONCURRENCY_POLICIES).default("Allow"),
  startingDeadlineSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional(),
  suspend: z.boolean().default(false),
  historyLimit: z.number().int().min(1).max(100).default(10),
  job: z.unknown(),
});

export interface ScheduleDefinition {
  name: string;
  cron: string;
  timeZone: string;
  concurrency: ConcurrencyPolicy;
  startingDeadlineSeconds?: number;
  suspend: boolean;
  historyLimit: number;
  /** The template as given (plus the schedule's label), submitted as is at each tick. */
  job: Record<string, unknown>;
}

/** One entry of the run history, newest first. */
export interface ScheduleRun {
  /** The tick (ISO, UTC) this entry decided; for `triggered`, when it was asked for. */
  tick: string;
  outcome: "fired" | "triggered" | "skipped" | "missed";
  jobId?: string;
  reason?: string;
  /** When the decision was written. */
  at: string;
}

export interface ScheduleRecord extends ScheduleDefinition {
  createdAt: string;
  updatedAt: string;
  /** The latest tick decided (fired, skipped or missed): ticks up to it are never looked at again. */
  lastTick: string;
  /**
   * A run decided but not yet known to be submitted. Whoever sees it submits it (the
   * job id is derived from the schedule and the tick, so a repeat finds the same job)
   * and clears it: a crash between deciding and submitting still yields one job.
   * `decidedAt`: others leave it to its decider for PENDING_GRACE_MS first.
   */
  pending?: { tick: string; key: string; jobId: string; replace: string[]; decidedAt: string };
  history: ScheduleRun[];
  /** "config" when BURST_SCHEDULES defines it (the API then refuses to redefine or delete it). */
  source: "api" | "config";
  configDigest?: string;
}

export type DefinitionCheck = { ok: true; definition: ScheduleDefinition; spec: JobSpec } | { ok: false; errors: SpecError[] };

function cronErrors(cron: string, timeZone: string): SpecError[] {
  const errors: SpecError[] = [];
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    errors.push({
      field: "timeZone",
      rule: `must be an IANA time zone such as UTC or Europe/Paris (got ${JSON.stringify(timeZone.slice(0, 64))})`,
    });
    return errors;
  }
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    errors.push({
      field: "cron",
      rule: `must have 5 fields (minute hour day month day-of-week) or 6 (second first), got ${fields} in ${JSON.stringify(cron.slice(0, 100))}`,
    });
    return errors;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timeZone }).next();
  } catch (err) {
    errors.push({
      field: "cron",
      rule: `is not a valid cron expression (${(err as Error).message.split("\n")[0]}): ${JSON.stringify(cron.slice(0, 100))}`,
    });
  }
  return errors;
}

/**
 * Checks a definition as a whole; every error names its field (`job.cpu` for the
 * template's), the rule and the bad value where it is safe to repeat.
 */
export function checkDefinition(input: unknown, pools: ReadonlyMap<string, PoolConfig>, secrets: KeyRing): DefinitionCheck {
  const r = scheduleSchema.safeParse(input, { error: (issue) => (issue.input === undefined ? "is required" : undefined) });
  if (!r.success) return { ok: false, errors: specErrors(r.error, scheduleSchema) };
  const d = r.data;
  const errors = cronErrors(d.cron, d.timeZone);
  const job = d.job;
  if (!job || typeof job !== "object" || Array.isArray(job)) {
    errors.push({ field: "job", rule: "must be a job spec object" });
    return { ok: false, errors };
  }
  const template = job as Record<string, unknown>;
  // A stored template would keep secure values in a table for good; the schedule makes its own idempotency keys.
  if (template.secureEnv !== undefined)
    errors.push({
      field: "job.secureEnv",
      rule: "is not supported in a schedule's template: it is stored as given; use env, or have the job fetch its secret",
    });
  const events = template.events as { webhook?: { secret?: unknown }; eventGrid?: unknown } | undefined;
  if (events && typeof events === "object" && events.eventGrid !== undefined)
    errors.push({
      field: "job.events.eventGrid",
      rule: "is not supported in a schedule's template: its key would be stored as given; use a webhook or a queue, or submit the job yourself",
    });
  if (events && typeof events === "object" && events.webhook && typeof events.webhook === "object" && events.webhook.secret !== undefined)
    errors.push({
      field: "job.events.webhook.secret",
      rule: "is not supported in a schedule's template: it is stored as given; leave it out (deliveries are then unsigned) or submit the job yourself",
    });
  if (template.idempotencyKey !== undefined)
    errors.push({ field: "job.idempotencyKey", rule: "must not be set: each run's key is derived from the schedule's name and tick" });
  const labels = template.labels && typeof template.labels === "object" ? (template.labels as Record<string, unknown>) : {};
  // secureEnv is refused above and left out here: a malformed name may be a pasted value, and errors name fields.
  const { secureEnv: _refused, ...plain } = template;
  const withLabel = { ...plain, labels: { ...labels, [SCHEDULE_LABEL]: d.name } };
  const checked = validateSpec(withLabel);
  if (!checked.ok) {
    errors.push(...checked.errors.map((e) => ({ field: e.field === "(spec)" ? "job" : `job.${e.field}`, rule: e.rule })));
    return { ok: false, errors };
  }
  const pooled = applyPool(checked.spec, pools, secrets);
  if (!pooled.ok) errors.push(...pooled.errors.map((e) => ({ field: `job.${e.field}`, rule: e.rule })));
  if (errors.length) return { ok: false, errors };
  const { job: _given, ...rest } = d;
  return { ok: true, definition: { ...rest, job: withLabel }, spec: checked.spec };
}

/** The ticks after `after` up to and including `upTo`: how many, and the latest. Counting stops at `cap`. */
export function ticksBetween(
  def: Pick<ScheduleDefinition, "cron" | "timeZone">,
  after: Date,
  upTo: Date,
  cap = 1000,
): { count: number; latest?: Date } {
  const it = CronExpressionParser.parse(def.cron, { tz: def.timeZone, currentDate: after });
  let count = 0;
  let latest: Date | undefined;
  for (;;) {
    const next = it.next().toDate();
    if (next.getTime() > upTo.getTime()) break;
    latest = next;
    if (++count >= cap) {
      // Too many to count one by one: the latest is found directly.
      latest = CronExpressionParser.parse(def.cron, { tz: def.timeZone, currentDate: new Date(upTo.getTime() + 1) })
        .prev()
        .toDate();
      break;
    }
  }
  return { count, latest };
}

/** The next `n` tick times after `from`. */
export function nextTicks(def: Pick<ScheduleDefinition, "cron" | "timeZone">, from: Date, n: number): Date[] {
  const it = CronExpressionParser.parse(def.cron, { tz: def.timeZone, currentDate: from });
  return Array.from({ length: n }, () => it.next().toDate());
}

/** The key a tick's run is submitted under: same schedule and tick ⇒ same job, on every instance. */
export function runKey(name: string, tick: string): string {
  return `schedule:${name}:${tick}`;
}

/**
 * BURST_SCHEDULES(_FILE): `{schedules: {NAME: definition}}`, each checked as POST
 * /api/schedules checks one. An error names the setting, the field, the rule and (for the
 * definition's own fields) the bad value.
 */
export function parseScheduleSettings(
  doc: unknown,
  where: string,
  pools: ReadonlyMap<string, PoolConfig>,
  secrets: KeyRing,
): ScheduleDefinition[] {
  const root = doc as { schedules?: unknown } | null;
  if (!root || typeof root !== "object" || typeof root.schedules !== "object" || root.schedules === null || Array.isArray(root.schedules)) {
    throw new ConfigError(`${where}: must have a "schedules" object mapping schedule names to definitions`);
  }
  const out: ScheduleDefinition[] = [];
  for (const [name, raw] of Object.entries(root.schedules as Record<string, unknown>)) {
    if (raw && typeof raw === "object" && "name" in raw)
      throw new ConfigError(`${where}: schedules.${name}.name: must not be set: the key names the schedule`);
    const checked = checkDefinition(raw && typeof raw === "object" ? { ...raw, name } : raw, pools, secrets);
    if (!checked.ok) {
      const e = checked.errors[0]!;
      if (e.field === "name") throw new ConfigError(`${where}: schedule name ${JSON.stringify(name)} ${e.rule}`);
      const top = e.field.split(".")[0]!;
      const value = top !== "job" && raw && typeof raw === "object" ? (raw as Record<string, unknown>)[top] : undefined;
      const quoted = value === undefined || e.rule.includes(JSON.stringify(value)) ? "" : `, got ${JSON.stringify(value)}`;
      throw new ConfigError(`${where}: schedules.${name}.${e.field}: ${e.rule}${quoted}`);
    }
    out.push(checked.definition);
  }
  return out;
}
