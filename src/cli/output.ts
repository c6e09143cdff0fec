/**
 * How the CLI shows things: `-o table` (the default, like az) as aligned columns,
 * `-o json` as the API's JSON, and a progress line on stderr that appears only on a
 * terminal, so pipes and files get clean output.
 */
import { plainJson } from "../plainJson.js";
export type OutputFormat = "table" | "json";

export type Cell = string | number | null | undefined;

export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n") + "\n";
}

/** Two columns, for one object's fields. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join("\n") + "\n";
}

export function printJson(value: unknown): void {
  process.stdout.write(`${plainJson(value, 2)}\n`);
}

export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  // Sub-cent amounts are the norm for short jobs; keep enough digits to compare them.
  return n !== 0 && Math.abs(n) < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(2)}`;
}

/** A difference: "+$0.000012", "-$0.000100", "$0.00". */
export function signedUsd(n: number): string {
  return n > 0 ? `+${usd(n)}` : n < 0 ? `-${usd(-n)}` : usd(0);
}

export function when(iso: string | undefined): string {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function seconds(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  if (n < 60) return `${Math.round(n * 10) / 10}s`;
  const m = Math.floor(n / 60);
  const pad = (x: number) => String(x).padStart(2, "0");
  return m < 60 ? `${m}m${pad(Math.floor(n % 60))}s` : `${Math.floor(m / 60)}h${pad(m % 60)}m`;
}

export class Progress {
  #shown = false;
  constructor(readonly enabled = Boolean(process.stderr.isTTY)) {}

  update(message: string): void {
    if (!this.enabled) return;
    const cols = process.stderr.columns || 100;
    process.stderr.write(`\r\x1b[K${message.slice(0, cols - 1)}`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.enabled || !this.#shown) return;
    process.stderr.write("\r\x1b[K");
    this.#shown = false;
  }
}
