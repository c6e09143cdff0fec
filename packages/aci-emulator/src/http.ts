/** Small HTTP helpers shared by the ARM and admin routes. */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errors } from "./errors.js";

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Reads a JSON body; an empty body is `undefined`. Bad JSON is ARM's InvalidRequestContent. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw errors.invalidContent(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.invalidContent(err instanceof Error ? err.message : String(err));
  }
}

export function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const requestId = randomUUID();
  const headers: Record<string, string> = {
    "cache-control": "no-cache",
    "x-ms-request-id": requestId,
    "x-ms-correlation-request-id": String(req.headers["x-ms-client-request-id"] ?? requestId),
    ...reply.headers,
  };
  if (reply.body === undefined) {
    res.writeHead(reply.status, { ...headers, "content-length": "0" });
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...headers, "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Matches "a/:x/b" against path segments, literal segments case-insensitively (ARM paths are). */
export function match(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split("/");
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith(":")) params[p.slice(1)] = segments[i]!;
    else if (p.toLowerCase() !== segments[i]!.toLowerCase()) return undefined;
  }
  return params;
}

export function baseUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? "127.0.0.1"}`;
}

/**
 * The Host names the emulator answers to: loopback ones only. A web page can reach a
 * loopback server through DNS rebinding (its own name resolving to 127.0.0.1), and then
 * the Host header carries that name.
 */
export function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return false;
  const name = (m[1] ?? m[2] ?? "").toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Who may call: a loopback Host (unless the emulator listens elsewhere on purpose), and,
 * when the emulator has a token, `Authorization: Bearer <token>`, compared in constant
 * time. Undefined when the request may go on; otherwise the refusal to send.
 */
export function refusal(req: IncomingMessage, options: { token?: string; anyHost: boolean }): Reply | undefined {
  if (!options.anyHost && !isLoopbackHost(req.headers.host)) {
    return { status: 400, body: { error: { code: "InvalidHost", message: "the emulator answers to loopback names only (localhost, 127.0.0.1, [::1])" } } };
  }
  if (options.token === undefined) return undefined;
  const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (given === undefined) return { status: 401, body: { error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." } } };
  const digest = (s: string) => createHash("sha256").update(s).digest();
  if (!timingSafeEqual(digest(given), digest(options.token))) {
    return { status: 401, body: { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } } };
  }
  return undefined;
}
