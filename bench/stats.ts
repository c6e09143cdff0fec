/** Small statistics used by the report: percentiles (nearest rank) and a step series' integral. */

export interface Spread {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  n: number;
}

/** Nearest-rank percentile: the smallest value with at least p % of the sample at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
    n: s.length,
  };
}

/** A count over time from [start, end) intervals: the points where it changes, in order. */
export function stepSeries(intervals: readonly { start: number; end: number }[]): { t: number; n: number }[] {
  const events: [number, number][] = [];
  for (const i of intervals) events.push([i.start, +1], [i.end, -1]);
  // At equal times, ends first: a slot handed on at the same instant is not counted twice.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: { t: number; n: number }[] = [{ t: Math.min(0, events[0]?.[0] ?? 0), n: 0 }];
  let n = 0;
  for (const [t, d] of events) {
    n += d;
    if (out[out.length - 1]!.t === t) out[out.length - 1]!.n = n;
    else out.push({ t, n });
  }
  return out;
}

/** ∫ of the clipped intervals over [from, to], i.e. busy slot-seconds in that window. */
export function busyIntegral(intervals: readonly { start: number; end: number }[], from: number, to: number): number {
  let sum = 0;
  for (const i of intervals) sum += Math.max(0, Math.min(i.end, to) - Math.max(i.start, from));
  return sum;
}
