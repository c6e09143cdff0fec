/**
 * Following a job's log over the API's long poll (see docs/api.md): ask from the
 * offset read so far, write what comes, and stop when the API says the log is
 * complete. Between answers the caller hears the job's state, for progress.
 */
import type { ApiClient } from "./client.js";

export interface FollowOptions {
  timestamps?: boolean;
  attempt?: number;
  /** Seconds the API may hold each request (default: its own, 20). */
  wait?: () => number | undefined;
  onText(text: string): void;
  onState?(state: string): void | Promise<void>;
}

export async function followLog(client: ApiClient, id: string, o: FollowOptions): Promise<string> {
  let offset = 0;
  for (;;) {
    const r = await client.call("GET", `jobs/${encodeURIComponent(id)}/logs`, {
      query: { follow: true, offset, timestamps: o.timestamps || undefined, attempt: o.attempt, wait: o.wait?.() },
    });
    if (r.text) o.onText(r.text);
    offset = Number(r.headers.get("x-burst-log-offset") ?? offset);
    const state = r.headers.get("x-burst-job-state") ?? "";
    await o.onState?.(state);
    if (r.headers.get("x-burst-log-complete") === "true") return state;
  }
}

/** The whole stored log now, page by page. */
export async function readLog(client: ApiClient, id: string, o: { timestamps?: boolean; attempt?: number; onText(text: string): void }): Promise<void> {
  let offset = 0;
  for (;;) {
    const r = await client.call("GET", `jobs/${encodeURIComponent(id)}/logs`, { query: { offset, timestamps: o.timestamps || undefined, attempt: o.attempt } });
    if (r.text) o.onText(r.text);
    offset = Number(r.headers.get("x-burst-log-offset") ?? offset);
    if (r.headers.get("x-burst-log-more") !== "true") return;
  }
}
