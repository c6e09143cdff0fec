/**
 * Secure environment values are sealed with AES-256-GCM under the app's secret key
 * (BURST_SECRET_KEY) before anything is stored, and opened only to build the ACI
 * request, where they travel as `secureValue` (ACI never returns those).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";

export class SecretKeyMissing extends Error {
  override name = "SecretKeyMissing";
  constructor() {
    super("secureEnv needs the app setting BURST_SECRET_KEY (32 random bytes, base64) to seal secure values; none is configured");
  }
}

export function seal(values: Record<string, string>, key: Buffer | undefined, aad: string): string {
  if (!key) throw new SecretKeyMissing();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(values), "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
}

/** `aad` binds the sealed value to its job, so it cannot be moved to another job. */
export function open(sealed: string, key: Buffer | undefined, aad: string): Record<string, string> {
  if (!key) throw new SecretKeyMissing();
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("sealed secure values are malformed");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  const text = Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  return JSON.parse(text) as Record<string, string>;
}
