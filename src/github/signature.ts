/**
 * Webhook signatures: GitHub sends `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
 * the raw body under the webhook secret>`. The check runs on the bytes as received,
 * before anything parses them, and compares in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const HEADER = /^sha256=([0-9a-f]{64})$/i;

export function signBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function verifySignature(secret: string, body: Uint8Array, header: string | null | undefined): boolean {
  const m = HEADER.exec(header?.trim() ?? "");
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(m[1]!, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
