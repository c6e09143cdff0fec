/**
 * The CLI's HTTP client for the Burst API. Every failure becomes a CliError whose
 * message is one line a person can act on: the API is not running, the key is wrong,
 * or what the API said was wrong (its error message already names each field).
 */
import { LOCAL_API_KEY } from "../appNames.js";

export const DEFAULT_URL = "http://localhost:7071";
export const DEFAULT_KEY = LOCAL_API_KEY;

export class CliError extends Error {
  override name = "CliError";
  /** `status` is the API's HTTP status when the API answered with an error. */
  constructor(message: string, readonly exitCode = 1, readonly status?: number) {
    super(message);
  }
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown[] };
}

export class ApiClient {
  readonly base: string;

  /** Where the URL came from (`--url`, `BURST_URL`, or the default), for messages. */
  readonly source: string;

  constructor(url: string, private readonly key: string, source = "--url") {
    // Accept the API root with or without the /api prefix.
    this.base = url.replace(/\/+$/, "").replace(/\/api$/, "");
    this.source = source;
    // "localhost:7071" parses as a URL whose scheme is "localhost:": say what is missing.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(this.base)) {
      throw new CliError(`${source} ${JSON.stringify(url)} has no scheme: use http://${this.base.replace(/^[a-z][a-z0-9+.-]*:(?!\d)/i, "")} (or https://)`);
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(this.base);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new CliError(`${source} must be an http(s) URL like ${DEFAULT_URL}, got ${JSON.stringify(url)}`);
    }
  }

  async call(method: string, path: string, options: { query?: Record<string, string | number | boolean | undefined>; body?: string; contentType?: string } = {}): Promise<ApiAnswer> {
    const url = new URL(`${this.base}/api/${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { "x-functions-key": this.key };
    if (options.contentType) headers["content-type"] = options.contentType;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body });
    } catch {
      throw new CliError(`cannot reach the Burst API at ${this.base} (${this.source}) — is \`npm start\` running?`);
    }
    const text = await res.text().catch(() => "");
    if (res.status === 401) throw new CliError(`the Burst API at ${this.base} (${this.source}) refused the key (401): set BURST_API_KEY or pass --key`);
    if (res.status >= 400) throw new CliError(this.#describe(method, path, res.status, text), 1, res.status);
    return { status: res.status, headers: res.headers, text };
  }

  async json<T>(method: string, path: string, options: Parameters<ApiClient["call"]>[2] = {}): Promise<T> {
    const r = await this.call(method, path, options);
    try {
      return JSON.parse(r.text) as T;
    } catch {
      throw new CliError(`the Burst API at ${this.base} answered ${method} /api/${path} with something that is not JSON; is --url pointing at Burst?`);
    }
  }

  #describe(method: string, path: string, status: number, text: string): string {
    let body: ApiErrorBody | undefined;
    try {
      body = JSON.parse(text) as ApiErrorBody;
    } catch {
      // Not one of Burst's error bodies.
    }
    const message = body?.error?.message;
    if (message) return message.replace(/\s*\n\s*/g, " ");
    if (status === 404) return `the Burst API at ${this.base} has no ${method} /api/${path.split("?")[0]} (404); is --url pointing at Burst?`;
    return `the Burst API at ${this.base} answered ${status} to ${method} /api/${path.split("?")[0]}`;
  }
}
