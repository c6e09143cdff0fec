/**
 * How long a job waits before its next attempt, pure: exponential, so a failing image or a
 * flaky dependency is not hammered, with jitter, so jobs that failed together do not all
 * come back at the same moment.
 */

/** Exponential backoff with ±20 % jitter: 5 s, 10 s, 20 s … capped at 5 minutes. */
export function retryBackoffSeconds(failures: number, random: () => number = Math.random): number {
  const base = Math.min(300, 5 * 2 ** Math.max(0, failures - 1));
  return base * (0.8 + 0.4 * random());
}
