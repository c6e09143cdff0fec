/**
 * The job spec: one zod schema, used for queue messages, HTTP bodies, CLI files and
 * runner profiles. Every error names the field and the rule.
 */
import { z } from "zod";
import { suggestion } from "./didYouMean.js";
import { parseAllDocuments } from "yaml";
import type { SpecError } from "./model.js";
import { eventsSchema, redactEvents } from "./events/spec.js";

/** ACI limits per container group (Standard SKU) — see the ACI quotas page. */
export const ACI_MAX_CPU = 31;
export const ACI_MAX_MEMORY_GB = 240;
/** ACI allows at most 5 ports per IP address. */
export const ACI_MAX_PORTS = 5;
/** The most children one array job may have. */
export const MAX_ARRAY_COUNT = 10_000;
/** The most jobs one job may depend on. */
export const MAX_DEPENDENCIES = 100;
/** Set in each array child's environment. */
export const ARRAY_ENV = { index: "BURST_ARRAY_INDEX", size: "BURST_ARRAY_SIZE" } as const;

// name[:tag][@digest] with an optional registry host[:port]; lowercase path components.
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const POOL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const PRINTABLE = /^[\x20-\x7E]+$/;

const envMap = (what: string) =>
  z.record(z.string().regex(ENV_NAME, { error: `${what} names must match ${ENV_NAME.source}` }),
    z.string({ error: "must be a string" }).max(32_768, { error: "must be at most 32768 characters" }))
    .refine((m) => Object.keys(m).length <= 100, { error: "must have at most 100 entries" });

/**
 * How long a job may ask to be kept after it finishes (ttlSecondsAfterFinished): at most 10
 * years, as the pools' retentionDays; at least an hour, so a submission redelivered after a
 * crash (its queue message comes back within minutes) still finds its job instead of
 * running it again.
 */
export const MIN_TTL_SECONDS = 3600;
export const MAX_TTL_SECONDS = 3650 * 86_400;

const decimals = (n: number, places: number) => Math.abs(n * 10 ** places - Math.round(n * 10 ** places)) < 1e-9;

export const jobSpecSchema = z.strictObject({
  image: z.string({ error: "is required and must be a string" })
    .max(512, { error: "must be at most 512 characters" })
    .regex(IMAGE_REF, { error: "must be an image reference like registry/name:tag or name@sha256:<digest>" }),
  command: z.array(z.string({ error: "must be a string" }).max(32_768, { error: "must be at most 32768 characters" }), { error: "must be an array of strings" })
    .max(256, { error: "must have at most 256 items" }).optional(),
  env: envMap("env").optional(),
  secureEnv: envMap("secureEnv").optional(),
  cpu: z.number({ error: "must be a number" })
    .min(0.1, { error: "must be at least 0.1 vCPU" })
    .max(ACI_MAX_CPU, { error: `must be at most ${ACI_MAX_CPU} vCPU (ACI's per-group limit)` })
    .refine((n) => decimals(n, 2), { error: "must have at most 2 decimal places" })
    .default(1),
  memoryGb: z.number({ error: "must be a number" })
    .min(0.1, { error: "must be at least 0.1 GB" })
    .max(ACI_MAX_MEMORY_GB, { error: `must be at most ${ACI_MAX_MEMORY_GB} GB (ACI's per-group limit)` })
    .refine((n) => decimals(n, 1), { error: "must be a multiple of 0.1 GB" })
    .default(1.5),
  timeoutSeconds: z.number({ error: "must be a number" }).int({ error: "must be a whole number of seconds" })
    .min(1, { error: "must be at least 1" }).max(30 * 86_400, { error: "must be at most 2592000 (30 days)" }).optional(),
  maxCostUsd: z.number({ error: "must be a number" }).gt(0, { error: "must be greater than 0" }).max(1_000_000, { error: "must be at most 1000000" }).optional(),
  retries: z.number({ error: "must be a number" }).int({ error: "must be a whole number" })
    .min(0, { error: "must be at least 0" }).max(10, { error: "must be at most 10" }).default(0),
  pool: z.string({ error: "must be a string" }).regex(POOL_NAME, { error: "must be 1-32 lowercase letters, digits or dashes" }).default("default"),
  priority: z.number({ error: "must be a number" }).int({ error: "must be a whole number" })
    .min(-1000, { error: "must be at least -1000" }).max(1000, { error: "must be at most 1000" }).default(0),
  name: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(128, { error: "must be at most 128 characters" })
    .regex(/^[^\x00-\x1F\x7F]+$/, { error: "must not contain control characters" }).optional(),
  labels: z.record(z.string().regex(LABEL_KEY, { error: `label keys must match ${LABEL_KEY.source}` }),
    z.string({ error: "must be a string" }).max(256, { error: "must be at most 256 characters" }))
    .refine((m) => Object.keys(m).length <= 20, { error: "must have at most 20 labels" }).default({}),
  idempotencyKey: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(128, { error: "must be at most 128 characters" })
    .regex(PRINTABLE, { error: "must be printable ASCII" }).optional(),
  ports: z.array(z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(1, { error: "must be a TCP port (1-65535)" }).max(65535, { error: "must be a TCP port (1-65535)" }), { error: "must be an array of port numbers" })
    .max(ACI_MAX_PORTS, { error: `must have at most ${ACI_MAX_PORTS} ports (ACI's per-IP limit)` }).optional(),
  publicIp: z.boolean({ error: "must be true or false" }).optional(),
  /** Whether the job may run on ACI Spot (see placements.ts); the pool's `spot` when absent. */
  spot: z.enum(["never", "preferred", "required"], { error: 'must be "never", "preferred" or "required"' }).optional(),
  ttlSecondsAfterFinished: z.number({ error: "must be a number" }).int({ error: "must be a whole number of seconds" })
    .min(MIN_TTL_SECONDS, { error: `must be at least ${MIN_TTL_SECONDS} (an hour: a redelivered submission must still find its job)` }).max(MAX_TTL_SECONDS, { error: `must be at most ${MAX_TTL_SECONDS} (10 years)` }).optional(),
  dependsOn: z.array(z.strictObject({
    job: z.string({ error: "must be a job id" }).regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "must be a Burst job id: 1-63 lowercase letters, digits or dashes" }),
    on: z.enum(["success", "completion", "failure"], { error: 'must be one of "success", "completion", "failure"' }).default("success"),
    mode: z.enum(["n-to-n"], { error: 'must be "n-to-n"' }).optional(),
  }), { error: "must be a list like [{ job: ID, on: \"success\" }]" })
    .max(MAX_DEPENDENCIES, { error: `must have at most ${MAX_DEPENDENCIES} entries` }).optional(),
  array: z.strictObject({
    count: z.number({ error: "must be a number" }).int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" }).max(MAX_ARRAY_COUNT, { error: `must be at most ${MAX_ARRAY_COUNT}` }),
    parallelism: z.number({ error: "must be a number" }).int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" }).max(MAX_ARRAY_COUNT, { error: `must be at most ${MAX_ARRAY_COUNT}` }).optional(),
    maxFailedIndexes: z.number({ error: "must be a number" }).int({ error: "must be a whole number" })
      .min(0, { error: "must be at least 0" }).max(MAX_ARRAY_COUNT, { error: `must be at most ${MAX_ARRAY_COUNT}` }).optional(),
    sequential: z.boolean({ error: "must be true or false" }).optional(),
  }, { error: "must be an object like { count: 10 }" }).optional(),
  /** Completion events: which types, and the webhook and/or Storage queue they go to (events/spec.ts). */
  events: eventsSchema.optional(),
}).superRefine((spec, ctx) => {
  if (spec.publicIp && !(spec.ports && spec.ports.length > 0)) {
    ctx.addIssue({ code: "custom", path: ["ports"], message: "must list at least one port when publicIp is true" });
  }
  const clash = Object.keys(spec.env ?? {}).filter((k) => spec.secureEnv && k in spec.secureEnv);
  for (const k of clash) ctx.addIssue({ code: "custom", path: ["secureEnv", k], message: "must not repeat a name that is also in env" });
  for (const [i, d] of (spec.dependsOn ?? []).entries()) {
    if (d.mode === "n-to-n" && !spec.array) ctx.addIssue({ code: "custom", path: ["dependsOn", i, "mode"], message: "n-to-n needs this job to be an array (array.count)" });
  }
  if (spec.array) {
    for (const k of Object.values(ARRAY_ENV)) {
      if (spec.env && k in spec.env) ctx.addIssue({ code: "custom", path: ["env", k], message: "is set by Burst in each array child and must not be given" });
    }
  }
});

export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;

function fieldOf(path: PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || "(spec)";
}

/** The field names a strict object at `path` accepts, for "did you mean" (set by the schema that reports). */
let knownKeys: (path: PropertyKey[]) => string[] = () => [];

/**
 * Turns zod issues into field/rule pairs, one per problem. With `schema`, an unknown
 * field's rule suggests the known one it is closest to.
 */
export function specErrors(error: z.ZodError, schema?: z.ZodType): SpecError[] {
  knownKeys = (path) => keysAt(schema, path);
  const out: SpecError[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(issue.path);
      for (const k of issue.keys) out.push({ field: fieldOf([...issue.path, k]), rule: `is not a known field${suggestion(k, known)}` });
    } else if (issue.code === "invalid_key") {
      const inner = (issue as { issues?: { message: string }[] }).issues?.[0]?.message;
      out.push({ field: fieldOf(issue.path), rule: inner ?? "is not a valid key" });
    } else if (issue.code === "invalid_type" && issue.path.length === 0) {
      out.push({ field: "(spec)", rule: "must be an object" });
    } else {
      out.push({ field: fieldOf(issue.path), rule: sentence(issue) });
    }
  }
  return out;
}

/**
 * A rule as a sentence: schemas with their own messages keep them; zod's defaults
 * ("Too small: expected number to be >=1") are said the way Burst says the rest.
 */
function sentence(issue: z.core.$ZodIssue): string {
  if (!/^(Too small|Too big|Invalid input|Invalid option)/.test(issue.message)) return issue.message;
  const i = issue as { code: string; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean; expected?: string; values?: unknown[]; origin?: string };
  const unit = i.origin === "string" ? " characters" : i.origin === "array" ? " items" : "";
  if (i.code === "too_small") return `must be ${i.inclusive === false ? "more than" : "at least"} ${String(i.minimum)}${unit}`;
  if (i.code === "too_big") return `must be ${i.inclusive === false ? "less than" : "at most"} ${String(i.maximum)}${unit}`;
  if (i.code === "invalid_type") return `must be ${i.expected === "object" ? "an object" : i.expected === "array" ? "a list" : `a ${i.expected}`}`;
  if (i.code === "invalid_value" && i.values) return `must be one of ${i.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return issue.message;
}

/** At most this many errors are reported; the rest are counted in one last entry. */
export const MAX_REPORTED_ERRORS = 100;

/**
 * Keeps an error list small: a spec with 60,000 unknown keys must not produce a 4.6 MB
 * answer or a record that cannot be stored.
 */
export function capErrors(errors: SpecError[], max = MAX_REPORTED_ERRORS): SpecError[] {
  if (errors.length <= max) return errors;
  return [...errors.slice(0, max), { field: "(more)", rule: `and ${errors.length - max} more errors like these` }];
}

export type SpecResult = { ok: true; spec: JobSpec } | { ok: false; errors: SpecError[] };

/**
 * What a job may store of its spec, as characters of JSON (its secure values counted as
 * sealed): a job record is one Table entity, 480,000 characters at most (store/tables.ts),
 * and this leaves the rest for what the job adds as it runs (attempts, log counts, reasons).
 */
export const MAX_STORED_SPEC_CHARS = 256_000;

/** The spec's size as the job record will hold it. */
export function storedSpecChars(spec: JobSpec): number {
  const sealed = spec.secureEnv ? Math.ceil((JSON.stringify(spec.secureEnv).length * 4) / 3) + 120 : 0;
  return JSON.stringify(redactSpec(spec)).length + sealed;
}

/** The keys of the strict object schema found at `path` (array indexes and record keys skipped). */
function keysAt(schema: z.ZodType | undefined, path: PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = (x as { def?: { type?: string; innerType?: unknown; in?: unknown; element?: unknown } })?.def;
      if (def?.type === "optional" || def?.type === "default" || def?.type === "nullable" || def?.type === "prefault") x = def.innerType;
      else if (def?.type === "pipe") x = def.in;
      else break;
    }
    return x;
  };
  for (const p of path) {
    s = unwrap(s);
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown } })?.def;
    if (def?.type === "object" && typeof p === "string") s = def.shape?.[p];
    else if (def?.type === "array") s = def.element;
    else if (def?.type === "record") s = def.valueType;
    else return [];
  }
  const shape = (unwrap(s) as { def?: { shape?: Record<string, unknown> } })?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

export function validateSpec(input: unknown): SpecResult {
  const r = jobSpecSchema.safeParse(input);
  if (!r.success) return { ok: false, errors: specErrors(r.error, jobSpecSchema) };
  const size = storedSpecChars(r.data);
  if (size > MAX_STORED_SPEC_CHARS) {
    return { ok: false, errors: [{ field: "(spec)", rule: `is ${size.toLocaleString("en-US")} characters as stored; the limit is ${MAX_STORED_SPEC_CHARS.toLocaleString("en-US")} (a job is one Table entity of at most 1 MiB): keep large data in a blob and pass its name` }] };
  }
  return { ok: true, spec: r.data };
}

// Parse errors give a position, never a quote of the text: it may hold secure values,
// and V8's JSON messages echo the text around the error.
function jsonError(err: unknown): string {
  const at = /position (\d+)/.exec((err as Error).message)?.[1];
  return at ? `must be valid JSON (error at position ${at})` : "must be valid JSON";
}

/**
 * A YAML error as a fixed text and a position. The parser's own messages quote the input
 * ("Unresolved alias …: S3CR3T"), so only its error code is used ("BAD_ALIAS" → "bad
 * alias"); an error without one (from resolving aliases) gets a fixed sentence.
 */
function yamlError(err: unknown): string {
  const e = err as { code?: unknown; linePos?: { line: number; col: number }[] };
  const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : "";
  const what = typeof e.code === "string" && /^[A-Z_]{1,40}$/.test(e.code)
    ? e.code.toLowerCase().replace(/_/g, " ")
    : "an alias could not be resolved (it names no anchor set before it, or there are too many aliases)";
  return `must be valid YAML: ${what}${where}`;
}

export type SpecTextResult = { ok: true; values: unknown[]; isList: boolean } | { ok: false; errors: SpecError[] };

/**
 * Parses JSON or YAML text holding one spec, an array of specs, or several YAML
 * documents. `auto` reads text that starts like JSON as JSON, anything else as YAML.
 */
export function parseSpecText(text: string, format: "json" | "yaml" | "auto" = "auto"): SpecTextResult {
  const trimmed = text.trim();
  const fail = (rule: string): SpecTextResult => ({ ok: false, errors: [{ field: "(spec)", rule }] });
  if (trimmed === "") return fail("must not be empty");
  if (format === "json" || (format === "auto" && (trimmed.startsWith("{") || trimmed.startsWith("[")))) {
    let v: unknown;
    try {
      v = JSON.parse(trimmed);
    } catch (err) {
      return fail(jsonError(err));
    }
    return Array.isArray(v) ? { ok: true, values: v, isList: true } : { ok: true, values: [v], isList: false };
  }
  const docs = parseAllDocuments(trimmed);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  let isList = list.length > 1;
  for (const d of list) {
    if (d.errors.length > 0) return fail(yamlError(d.errors[0]));
    let v: unknown;
    try {
      v = d.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return fail(yamlError(err));
    }
    if (Array.isArray(v)) {
      values.push(...v);
      isList = true;
    } else if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) return fail("must hold a job spec");
  return { ok: true, values, isList };
}

/** The spec as stored: secure values dropped, their names kept so people can see what was set. */
export function redactSpec(spec: JobSpec): JobSpec & { secureEnvNames?: string[] } {
  const { secureEnv, events, ...rest } = spec;
  const kept = events ? { ...rest, events: redactEvents(events) } : rest;
  return secureEnv ? { ...kept, secureEnvNames: Object.keys(secureEnv) } : kept;
}
