/**
 * The one way tests wait for something the system does on its own: poll a condition
 * until it holds. A timeout says what was awaited and the last value seen, so a red test
 * shows how far things got instead of "timed out". Never a fixed sleep: a sleep is a
 * guess at how long something takes, too short on a loaded machine and wasted elsewhere.
 */

export interface WaitOptions<T> {
  /** What is awaited, as the failure should say it: "job j1 to reach Running". */
  what: string;
  /** Whether a value of `check` is the one awaited; default: any truthy value. */
  until?: (value: T) => boolean;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Pause between checks; default 100 ms. */
  intervalMs?: number;
}

/**
 * Calls `check` until its value is the one awaited, and returns that value. An error
 * thrown by `check` fails the wait at once: it is a defect, not a state to wait out.
 */
export async function waitUntil<T>(check: () => T | Promise<T>, options: WaitOptions<T>): Promise<NonNullable<T>> {
  const { what, until = (v: T) => Boolean(v), timeoutMs = 10_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await check();
    if (until(last)) return last as NonNullable<T>;
    if (Date.now() >= deadline) throw new WaitTimedOut(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${shown(last)}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

export class WaitTimedOut extends Error {
  override name = "WaitTimedOut";
}

function shown(value: unknown): string {
  const text = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
  return text.length > 800 ? `${text.slice(0, 800)}…` : text;
}
