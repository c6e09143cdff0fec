/**
 * JSON text whose numbers never use exponents. JSON.stringify writes 5e-10 or 3.2451e-7
 * for small amounts (bill differences, tiny costs), which is valid JSON but unreadable,
 * and tools that parse numbers as text (jq's --arg, spreadsheets) mangle it. Money here
 * is kept to 1e-9 USD, so every amount fits in plain decimal notation.
 */
import { randomBytes } from "node:crypto";

// Marks a number for rewriting; a per-process nonce, so no string value can pose as one.
const MARK = `\u0000${randomBytes(6).toString("hex")}:`;
const MARKED = new RegExp(`"\\\\u0000${MARK.slice(1)}([^"]+)"`, "g");

/** The decimal notation of a finite number, as exact as JavaScript prints it. */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, rest = "", e] = m;
  const exp = Number(e);
  const digits = lead! + rest;
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${sign}${digits}${"0".repeat(exp - rest.length)}`;
}

export function plainJson(value: unknown, space?: number): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && Number.isFinite(v) && /e/.test(String(v)) ? `${MARK}${plainNumber(v)}` : v), space);
  return text === undefined ? text! : text.replace(MARKED, "$1");
}
