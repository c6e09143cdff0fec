/**
 * Secure environment values are sealed with AES-256-GCM before anything is stored, and
 * opened only to build the ACI request, where they travel as `secureValue` (ACI never
 * returns those).
 *
 * Keys form a ring: BURST_SECRET_KEY is the current key, which seals; BURST_OLD_SECRET_KEYS
 * are earlier ones, which only open. Each sealed value names its key by id (the first
 * bytes of the key's SHA-256, never the key), so rotating is: make the new key current,
 * move the old one to the old keys, and drop it once nothing sealed under it is waiting
 * (see README, "Rotating the secret key"). A value no configured key opens cannot be
 * retried into working: the job ends Failed and says which key is missing.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** v2: `v2.<key id>.<iv>.<tag>.<body>`; v1 (before key ids): `v1.<iv>.<tag>.<body>`. */
const VERSION = "v2";

export interface KeyRing {
  /** Seals; undefined when no key is configured. */
  current?: Buffer;
  /** Every key that may open, the current one included, by id. */
  keys: Map<string, Buffer>;
}

export const EMPTY_RING: KeyRing = { keys: new Map() };

/** A key's public name: "k" and 8 hex digits of its SHA-256. */
export function keyId(key: Buffer): string {
  return `k${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
}

export function keyRing(current: Buffer | undefined, old: Buffer[] = []): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const k of [...(current ? [current] : []), ...old]) keys.set(keyId(k), k);
  return { current, keys };
}

export class SecretKeyMissing extends Error {
  override name = "SecretKeyMissing";
  constructor() {
    super("secureEnv needs the app setting BURST_SECRET_KEY (32 random bytes, base64) to seal secure values; none is configured");
  }
}

/** No configured key opens the value: a retry cannot help, the job's secure values are lost. */
export class SecureValuesUnopenable extends Error {
  override name = "SecureValuesUnopenable";
}

export function seal(values: Record<string, string>, ring: KeyRing, aad: string): string {
  const key = ring.current;
  if (!key) throw new SecretKeyMissing();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(values), "utf8"), cipher.final()]);
  return [VERSION, keyId(key), iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
}

function tryOpen(key: Buffer, iv: string, tag: string, body: string, aad: string): Record<string, string> | undefined {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    const text = Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** `aad` binds the sealed value to its job, so it cannot be moved to another job. */
export function open(sealed: string, ring: KeyRing, aad: string): Record<string, string> {
  const parts = sealed.split(".");
  if (parts[0] === "v2" && parts.length === 5) {
    const [, kid, iv, tag, body] = parts as [string, string, string, string, string];
    const key = ring.keys.get(kid);
    if (!key) throw new SecureValuesUnopenable(`its secure values cannot be opened (key ${kid} is not configured: set it in BURST_OLD_SECRET_KEYS)`);
    const values = tryOpen(key, iv, tag, body, aad);
    if (!values) throw new SecureValuesUnopenable(`its secure values cannot be opened (key ${kid} does not open them: the stored value is damaged, or belongs to another job)`);
    return values;
  }
  if (parts[0] === "v1" && parts.length === 4) {
    // Sealed before keys had ids: any configured key may be the one.
    const [, iv, tag, body] = parts as [string, string, string, string];
    for (const key of ring.keys.values()) {
      const values = tryOpen(key, iv, tag, body, aad);
      if (values) return values;
    }
    throw new SecureValuesUnopenable(`its secure values cannot be opened (sealed before key ids; none of the ${ring.keys.size} configured keys opens them)`);
  }
  throw new SecureValuesUnopenable("its secure values cannot be opened (the stored value is malformed)");
}
