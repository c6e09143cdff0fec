/**
 * Structured logs: one JSON object per line, so the Functions host's log stream and
 * Application Insights (`traces`, parse_json(message)) can filter by job, attempt, pool
 * and step instead of grepping sentences.
 *
 *   {"time":"…","level":"warn","message":"job j-…: inline launch failed, …","jobId":"j-…","pool":"default","attempt":1,"step":"launch"}
 *
 * Callers keep writing sentences (`job <id>: …`); the fields they pass, or the job id the
 * sentence names, become fields of their own. Nothing here sees a secure value: messages
 * are built from records whose secure values are sealed (secrets.ts) and specs redacted.
 */
import type { TransitionEvent } from "../jobState.js";

export type Level = "info" | "warn" | "error";

export interface LogFields {
  jobId?: string;
  attempt?: number;
  pool?: string;
  /** The scheduler step or function that speaks: launch, monitor, finish, reconcile, … */
  step?: string;
}

export interface StructuredLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const JOB_IN_MESSAGE = /\bjob ([jk][a-z0-9]+(?:-\d+)?)\b/;
const STEP_PREFIX = /^([a-z]+): /;

/** One log line: the message's own job id and step prefix (`reconcile: …`) unless given. */
export function logLine(level: Level, message: string, fields: LogFields = {}, now = new Date()): string {
  const jobId = fields.jobId ?? message.match(JOB_IN_MESSAGE)?.[1];
  const step = fields.step ?? message.match(STEP_PREFIX)?.[1];
  return JSON.stringify({ time: now.toISOString(), level, message, ...fields, ...(jobId ? { jobId } : {}), ...(step ? { step } : {}) });
}

/** A logger writing JSON lines to the console (the Functions host forwards the console to its log stream). */
export function jsonLogger(
  write: (level: Level, line: string) => void = (level, line) =>
    (level === "info" ? console.log : level === "warn" ? console.warn : console.error)(line),
): StructuredLogger {
  return {
    info: (m, f) => write("info", logLine("info", m, f)),
    warn: (m, f) => write("warn", logLine("warn", m, f)),
    error: (m, f) => write("error", logLine("error", m, f)),
  };
}

/** Logs each transition as a line of its own: its job, attempt, pool and the state it entered (as `step`). */
export function logTransitions(log: StructuredLogger): (e: TransitionEvent) => void {
  return (e) =>
    log.info(`job ${e.jobId}: ${e.from} → ${e.to}${e.reason ? ` (${e.reason})` : ""}`, {
      jobId: e.jobId,
      attempt: e.attempt,
      pool: e.job?.pool,
      step: e.to,
    });
}
