/**
 * Drives the Burst HTTP API over real HTTP against a local stack, keeping every answer
 * so tests can search all of them (e.g. for a planted secure value).
 */
import { randomBytes } from "node:crypto";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, typed loosely: each test reads the shape its endpoint documents. */
  json: any;
}

export interface CallOptions {
  body?: unknown;
  /** Content-Type; JSON bodies default to application/json. `null` sends none. */
  type?: string | null;
  /** Function key; `null` sends none. */
  key?: string | null;
  query?: Record<string, string | number | boolean>;
}

export class Api {
  readonly answers: Answer[] = [];
  constructor(readonly url: string, readonly key: string) {}

  async call(method: string, path: string, o: CallOptions = {}): Promise<Answer> {
    const url = new URL(`${this.url}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    const key = o.key === undefined ? this.key : o.key;
    if (key !== null) headers["x-functions-key"] = key;
    let body: string | Buffer | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
      const type = o.type === undefined ? "application/json" : o.type;
      if (type !== null) headers["content-type"] = type;
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const answer = { status: res.status, headers: res.headers, text, json };
    this.answers.push(answer);
    return answer;
  }

  get(path: string, o?: CallOptions) { return this.call("GET", path, o); }
  post(path: string, body: unknown, o: CallOptions = {}) { return this.call("POST", path, { ...o, body }); }
  delete(path: string, o?: CallOptions) { return this.call("DELETE", path, o); }

  /** Polls GET /api/jobs/{id} until `done` holds (a bounded wait, not a timing assertion). */
  async waitFor(id: string, done: (job: { state: string; [k: string]: unknown }) => boolean, timeoutMs = 45_000) {
    const last = await waitUntil(async () => {
      const a = await this.get(`/api/jobs/${id}`);
      return { status: a.status, job: a.json };
    }, { what: `GET /api/jobs/${id} to show the job there`, until: (a) => a.status === 200 && done(a.job), timeoutMs, intervalMs: 150 });
    return last.job;
  }
}

export const FINAL = ["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"];
export const ended = (j: { state: string }) => FINAL.includes(j.state);

export async function startApiStack(options: Parameters<typeof startStack>[0] = {}): Promise<{ stack: Stack; api: Api; key: string }> {
  const key = `test-key-${randomBytes(6).toString("hex")}`;
  const stack = await startStack({ ...options, env: { BURST_API_KEY: key, ...options.env } });
  return { stack, api: new Api(stack.hosts[0]!.url, key), key };
}
