/**
 * Error classes whose names say what happens next, and the one place unknown thrown
 * values become them.
 */

/**
 * Why a platform call failed in a way worth trying again:
 * - `transient`: a 5xx or a network error; the same call again, soon;
 * - `throttled`: ARM or ACI asked to wait (429, Retry-After);
 * - `capacity`: the region has no room for this size right now;
 * - `quota`: the subscription's regional quota is used up until groups go away;
 * - `placement`: this subscription or region cannot take container groups at all (not
 *   registered for the provider, or ACI not offered there): another placement may.
 *
 * Capacity, quota and placement troubles move a launch on to the pool's next placement.
 */
export type PlatformTrouble = "transient" | "throttled" | "capacity" | "quota" | "placement";

export function movesPlacement(trouble: PlatformTrouble): boolean {
  return trouble === "capacity" || trouble === "quota" || trouble === "placement";
}

/** Azure's fault and worth another try later: capacity, quota, throttling, 5xx, network. */
export class RetryablePlatformError extends Error {
  override name = "RetryablePlatformError";
  /** `status` is the HTTP status, undefined for a network error. */
  constructor(message: string, readonly code?: string, readonly status?: number, readonly trouble: PlatformTrouble = "transient") {
    super(message);
  }

  /** A 5xx or a network error: worth an immediate retry of the same call. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500;
  }
}

/** ARM throttled the call (429) or it did not finish in time: wait, then try again; not a failure of the job. */
export class ThrottledError extends RetryablePlatformError {
  override name = "ThrottledError";
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message, "Throttled", 429, "throttled");
  }
}

/** The request itself is wrong (inaccessible image, invalid group): retrying cannot help. */
export class PermanentLaunchError extends Error {
  override name = "PermanentLaunchError";
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** A pool's waiting line is full; try again later (HTTP 429). */
export class PoolBusy extends Error {
  override name = "PoolBusy";
}

/** The message cannot be read at all; it belongs in the poison queue. */
export class UnreadableMessage extends Error {
  override name = "UnreadableMessage";
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    if (err.message) return err.message;
    // The SDKs' RestError comes without a message when the service answered with no body (or the socket dropped): say what is known.
    const e = err as { statusCode?: number; code?: string };
    const known = [e.statusCode !== undefined ? `status ${e.statusCode}` : "", e.code ? `code ${e.code}` : ""].filter(Boolean).join(", ");
    return `${err.name} without a message${known ? ` (${known})` : ""}`;
  }
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/**
 * Whether a failure may pass by itself: Azure's 5xx, throttling and timeouts (ARM or
 * Storage), and network errors. A step failing for these is retried, and resumed by the
 * reconciler after an outage; it is never ended for them (see scheduler/abandon.ts).
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof RetryablePlatformError) return err.transient || err.trouble === "throttled";
  const e = err as { statusCode?: number; code?: string; name?: string };
  if (typeof e?.statusCode === "number") return e.statusCode >= 500 || e.statusCode === 408 || e.statusCode === 429;
  // RestError without a status: the request never got an answer (ECONNREFUSED, ECONNRESET, timeouts).
  return e?.name === "RestError" || /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR)/.test(String(e?.code ?? ""));
}

/** An app setting is missing or invalid; the message names it, the rule and the bad value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
