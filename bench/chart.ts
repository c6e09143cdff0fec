/**
 * The busy-slot chart: live container groups over time for each run, against the cap
 * and the ideal makespan. Plain SVG, written by hand, so it needs no dependency and
 * diffs as text.
 */
import { stepSeries } from "./stats.js";

export interface ChartSeries {
  label: string;
  color: string;
  intervals: { start: number; end: number }[];
  /** Running (billed: pull → exit) containers, drawn faint under the live line. */
  billed?: { start: number; end: number }[];
  /** Drawn as a marker at the end of the run. */
  makespan: number;
}

export interface ChartInput {
  title: string;
  cap: number;
  idealSeconds: number;
  series: ChartSeries[];
}

const W = 960;
const H = 420;
const M = { left: 56, right: 20, top: 44, bottom: 70 };

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function busySlotsSvg(input: ChartInput): string {
  const tMax = Math.max(input.idealSeconds, ...input.series.map((s) => s.makespan), 1) * 1.03;
  const yMax = Math.max(input.cap, ...input.series.flatMap((s) => stepSeries(s.intervals).map((p) => p.n))) * 1.1;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const x = (t: number) => r1(M.left + (Math.max(0, t) / tMax) * (W - M.left - M.right));
  const y = (n: number) => r1(H - M.bottom - (n / yMax) * (H - M.top - M.bottom));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(input.title)}</text>`);
  const xs = niceStep(tMax, 10);
  for (let t = 0; t <= tMax; t += xs) {
    out.push(`<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${M.top}" stroke="#eee"/>`);
    out.push(`<text x="${x(t)}" y="${y(0) + 16}" text-anchor="middle">${Math.round(t)}</text>`);
  }
  const ys = niceStep(yMax, 6);
  for (let n = 0; n <= yMax; n += ys) {
    out.push(`<line x1="${M.left}" y1="${y(n)}" x2="${W - M.right}" y2="${y(n)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(n) + 4}" text-anchor="end">${n}</text>`);
  }
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${y(0) + 34}" text-anchor="middle">seconds since submission began</text>`);
  out.push(`<text transform="translate(16 ${(M.top + y(0)) / 2}) rotate(-90)" text-anchor="middle">live container groups (busy slots)</text>`);
  out.push(`<line x1="${M.left}" y1="${y(input.cap)}" x2="${W - M.right}" y2="${y(input.cap)}" stroke="#888" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${W - M.right - 4}" y="${y(input.cap) - 5}" text-anchor="end" fill="#555">cap ${input.cap}</text>`);
  out.push(`<line x1="${x(input.idealSeconds)}" y1="${y(0)}" x2="${x(input.idealSeconds)}" y2="${M.top}" stroke="#2a2" stroke-dasharray="3 3"/>`);
  out.push(`<text x="${x(input.idealSeconds) + 4}" y="${M.top + 12}" fill="#2a2">ideal ${input.idealSeconds.toFixed(0)} s</text>`);
  const path = (intervals: { start: number; end: number }[], until: number) => {
    let d = "";
    for (const p of stepSeries(intervals)) d += d ? ` H${x(p.t)} V${y(p.n)}` : `M${x(p.t)} ${y(p.n)}`;
    return `${d} H${x(until)}`;
  };
  input.series.forEach((s) => {
    if (s.billed) out.push(`<path d="${path(s.billed, s.makespan)}" fill="none" stroke="${s.color}" stroke-opacity="0.35" stroke-width="1"/>`);
  });
  input.series.forEach((s, k) => {
    out.push(`<path d="${path(s.intervals, s.makespan)}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    out.push(`<line x1="${x(s.makespan)}" y1="${y(0)}" x2="${x(s.makespan)}" y2="${M.top}" stroke="${s.color}" stroke-dasharray="2 4"/>`);
    const ly = H - 18;
    const lx = M.left + k * 330;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(`${s.label} (makespan ${s.makespan.toFixed(0)} s)`)}</text>`);
  });
  if (input.series.some((s) => s.billed)) out.push(`<text x="${W - M.right}" y="${H - 14}" text-anchor="end" fill="#666">faint: containers running (billed, pull → exit)</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
