/**
 * The HTTP API's common ground: the small request/response shapes the handlers use
 * (a subset of @azure/functions' HttpRequest, so handlers can be driven without a
 * host), the one error type, and the wrapper that turns any failure into the JSON
 * error body `{error: {code, message, details}}` with the right status.
 */
import { plainJson } from "../plainJson.js";
import { logLine } from "../telemetry/logger.js";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { PoolBusy, errorMessage } from "../errors.js";
import { capErrors } from "../jobSpec.js";

export interface ApiRequest {
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface ApiResponse {
  status: number;
  jsonBody?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface FieldError {
  field: string;
  rule: string;
}

export type ErrorCode =
  | "InvalidSpec" | "InvalidParameter" | "JobNotFound" | "JobFinished" | "QueueNotFound" | "IdempotencyConflict"
  | "PayloadTooLarge" | "UnsupportedMediaType" | "PoolBusy" | "TooManyFollowers" | "NothingToRetry" | "InternalError"
  | "ScheduleNotFound" | "ScheduleExists" | "ScheduleFromConfig";

export class ApiError extends Error {
  override name = "ApiError";
  /** `details` holds FieldErrors for 400s; other codes document their own (e.g. a partial 429 lists what was submitted). */
  constructor(readonly status: number, readonly code: ErrorCode, message: string, readonly details: readonly unknown[] = []) {
    super(message);
  }
}

/** 400 for a set of field errors; the message lists them all so a person reading one line sees everything. */
export function invalid(code: "InvalidSpec" | "InvalidParameter", details: FieldError[]): ApiError {
  const what = code === "InvalidSpec" ? "invalid job spec" : "invalid request";
  const shown = capErrors(details);
  return new ApiError(400, code, `${what}: ${shown.map((d) => `${d.field} ${d.rule}`).join("; ")}`, shown);
}

/** Seconds a client is asked to wait after a 429 before trying again. */
export const RETRY_AFTER_SECONDS = 30;

// Responses describe live jobs; a proxy or browser must never serve a stale copy.
const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, jsonBody: body, headers: { "content-type": "application/json; charset=utf-8", ...COMMON_HEADERS, ...headers } };
}

export function text(status: number, body: string, headers: Record<string, string> = {}): ApiResponse {
  return { status, body, headers: { "content-type": "text/plain; charset=utf-8", ...COMMON_HEADERS, ...headers } };
}

export function errorResponse(err: ApiError): ApiResponse {
  const headers: Record<string, string> = err.status === 429 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {};
  return json(err.status, { error: { code: err.code, message: err.message, details: err.details } }, headers);
}

/**
 * Wraps a handler for app.http. Unknown failures become a 500 that names the
 * invocation but not the cause: internal messages could carry anything, and the host
 * log (which has the cause) is the place to look.
 */
export function apiHandler(work: (req: ApiRequest, context: InvocationContext) => Promise<ApiResponse>) {
  return async (req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => toHttp(await answer(req, context));
  async function answer(req: HttpRequest, context: InvocationContext): Promise<ApiResponse> {
    try {
      return await work(req as unknown as ApiRequest, context);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      if (err instanceof PoolBusy) return errorResponse(new ApiError(429, "PoolBusy", err.message));
      context.error(logLine("error", `${req.method} ${new URL(req.url).pathname} failed: ${errorMessage(err)}`, { step: context.functionName }));
      return errorResponse(new ApiError(500, "InternalError", `internal error (invocation ${context.invocationId}); the host log has the cause`));
    }
  }
}

/** JSON answers are written here, in plain decimals (plainJson.ts), not by the host's JSON.stringify. */
function toHttp(r: ApiResponse): HttpResponseInit {
  if (r.jsonBody === undefined) return r;
  const { jsonBody, ...rest } = r;
  return { ...rest, body: plainJson(jsonBody) };
}
