/** How figures read on the pages. */
import type { Placement } from "./api.js";

export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const abs = Math.abs(n);
  return `$${n.toFixed(abs >= 1 || abs === 0 ? 2 : abs >= 0.01 ? 4 : 6)}`;
}

export function seconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Seconds from one time to another (or to now). */
export function between(from: string | undefined, to?: string): number | undefined {
  if (!from) return undefined;
  return ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
}

export function time(iso: string | undefined | null): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

export function placement(p: Placement | undefined): string {
  if (p === undefined || p === null) return "";
  if (typeof p === "string") return p;
  return [
    p.region,
    ...Object.entries(p)
      .filter(([k]) => k !== "region")
      .map(([k, v]) => `${k}: ${String(v)}`),
  ]
    .filter(Boolean)
    .join(", ");
}

export function labels(l: Record<string, string>): string {
  return Object.entries(l)
    .map(([k, v]) => (v ? `${k}=${v}` : k))
    .join(" ");
}
