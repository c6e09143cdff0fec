/**
 * ACI limits creates and deletes per region and subscription over two sliding windows
 * (by default 100 per 5 minutes and 300 per hour). Pure functions over the timestamps
 * of past admitted operations.
 */
export interface WindowLimits {
  per5Min: number;
  perHour: number;
}

export const FIVE_MINUTES_MS = 5 * 60_000;
export const ONE_HOUR_MS = 60 * 60_000;

export interface WindowDecision {
  admitted: boolean;
  /** Operations still allowed in each window after this one (if admitted). */
  remaining5m: number;
  remaining1h: number;
  /** Until the oldest operation that blocks admission leaves its window; 0 when admitted. */
  retryAfterMs: number;
}

/** Drops timestamps older than the longest window; keeps the array sorted ascending. */
export function prune(times: readonly number[], now: number): number[] {
  return times.filter((t) => t > now - ONE_HOUR_MS);
}

export function decide(times: readonly number[], limits: WindowLimits, now: number): WindowDecision {
  const inHour = times.filter((t) => t > now - ONE_HOUR_MS);
  const in5m = inHour.filter((t) => t > now - FIVE_MINUTES_MS);
  const blocked5m = in5m.length >= limits.per5Min;
  const blocked1h = inHour.length >= limits.perHour;
  if (!blocked5m && !blocked1h) {
    return {
      admitted: true,
      remaining5m: limits.per5Min - in5m.length - 1,
      remaining1h: limits.perHour - inHour.length - 1,
      retryAfterMs: 0,
    };
  }
  // The window frees a slot when the operation that is `limit` places from the end expires.
  const waitFor = (inWindow: number[], limit: number, windowMs: number) =>
    limit <= 0 ? windowMs : Math.max(1, inWindow[inWindow.length - limit]! + windowMs - now);
  const retryAfterMs = Math.max(
    blocked5m ? waitFor(in5m, limits.per5Min, FIVE_MINUTES_MS) : 0,
    blocked1h ? waitFor(inHour, limits.perHour, ONE_HOUR_MS) : 0,
  );
  return {
    admitted: false,
    remaining5m: Math.max(0, limits.per5Min - in5m.length),
    remaining1h: Math.max(0, limits.perHour - inHour.length),
    retryAfterMs,
  };
}
