/**
 * Route and query parameters, checked before anything is read or changed. Every
 * problem is collected, so one 400 names them all; unknown parameters are refused too,
 * since a misspelt filter (`?stat=Running`) silently matching everything is worse.
 */
import { ApiError, invalid, type ApiRequest, type FieldError } from "./http.js";

/** Burst's job ids: what ids.ts makes, and what the log store accepts in blob paths. */
export const JOB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `code` carries the function key when it is not sent as a header. */
const ALWAYS_ALLOWED = ["code"];

const shown = (v: string) => JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);

export class QueryReader {
  readonly errors: FieldError[] = [];
  readonly #q: URLSearchParams;

  constructor(req: ApiRequest, allowed: readonly string[]) {
    this.#q = req.query;
    for (const key of new Set(this.#q.keys())) {
      if (!allowed.includes(key) && !ALWAYS_ALLOWED.includes(key)) {
        this.errors.push({ field: key, rule: `is not a known parameter${allowed.length ? ` (known: ${allowed.join(", ")})` : " (this endpoint takes none)"}` });
      }
    }
  }

  /** The parameter as given (empty counts as absent), for checks of its own. */
  raw(name: string): string | undefined {
    const v = this.#q.get(name);
    return v === null || v === "" ? undefined : v;
  }

  string(name: string, pattern: RegExp, rule: string): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && !pattern.test(v)) this.errors.push({ field: name, rule });
    return v !== undefined && pattern.test(v) ? v : undefined;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T | undefined {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    // Case does not matter (state=running): the answer names the value as documented.
    const match = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (match) return match;
    this.errors.push({ field: name, rule: `must be one of ${values.join(", ")} (got ${shown(v)})` });
    return fallback;
  }

  int(name: string, min: number, max: number): number | undefined;
  int(name: string, min: number, max: number, fallback: number): number;
  int(name: string, min: number, max: number, fallback?: number): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.errors.push({ field: name, rule: `must be a whole number from ${min} to ${max}` });
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback = false): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    this.errors.push({ field: name, rule: "must be true or false" });
    return fallback;
  }

  /** Throws one 400 naming every problem found so far. */
  done(): void {
    if (this.errors.length > 0) throw invalid("InvalidParameter", this.errors);
  }
}

/** The `{id}` route parameter, or 400: it reaches storage keys and blob paths, so nothing else gets through. */
export function jobIdParam(req: ApiRequest): string {
  const id = req.params.id ?? "";
  if (!JOB_ID.test(id)) {
    throw new ApiError(400, "InvalidParameter", "id must be a Burst job id: 1-63 lowercase letters, digits or dashes", [
      { field: "id", rule: "must be a Burst job id: 1-63 lowercase letters, digits or dashes" },
    ]);
  }
  return id;
}

export function jobNotFound(id: string): ApiError {
  return new ApiError(404, "JobNotFound", `there is no job ${id}`);
}
