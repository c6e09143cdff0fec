/**
 * Learned run times, per job shape (pure). A shape is what makes two jobs likely to run
 * about as long: the pool, the image, the command and the names of the environment
 * variables. Env values are left out on purpose — they are where per-run inputs and
 * secrets live, so they would split every run into its own shape and must never reach a
 * digest that is stored in clear.
 *
 * Per shape Burst keeps the last SAMPLE_SIZE running times of succeeded attempts (a
 * bounded sample: old behaviour ages out), and how good the estimates it used were.
 */
import { createHash } from "node:crypto";
import type { JobSpec } from "./jobSpec.js";

/** Run times kept per shape: the median and p90 come from these. */
export const SAMPLE_SIZE = 32;
/** Shapes kept per pool; past it, new shapes are not learned (known ones still are). */
export const MAX_SHAPES_PER_POOL = 500;

/** A shape's id within its pool: the first 16 hex digits of a SHA-256 (the pool is the store's partition). */
export function shapeOf(spec: Pick<JobSpec, "image" | "command" | "env" | "secureEnv">): string {
  const envNames = [...new Set([...Object.keys(spec.env ?? {}), ...Object.keys(spec.secureEnv ?? {})])].sort();
  const canonical = JSON.stringify({ image: spec.image, command: spec.command ?? null, envNames });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** What is stored per shape. */
export interface ShapeDurations {
  /** Running seconds of the latest succeeded attempts, oldest first; at most SAMPLE_SIZE. */
  samples: number[];
  /** Runs that had an estimate (a hint or a learned one) when they were submitted. */
  estimatedRuns: number;
  /** The sum over those runs of |estimate − actual| / actual. */
  absRelErrorSum: number;
}

export const emptyShape = (): ShapeDurations => ({ samples: [], estimatedRuns: 0, absRelErrorSum: 0 });

/**
 * Adds one succeeded run. `estimateSeconds` is the estimate the run was ordered by, if it
 * had one; its error is relative to the actual time (at least one second, so that a job
 * that ran for no measurable time does not divide by zero).
 */
export function addRun(d: ShapeDurations, seconds: number, estimateSeconds?: number): ShapeDurations {
  const samples = [...d.samples, seconds].slice(-SAMPLE_SIZE);
  if (estimateSeconds === undefined) return { ...d, samples };
  return {
    samples,
    estimatedRuns: d.estimatedRuns + 1,
    absRelErrorSum: d.absRelErrorSum + Math.abs(estimateSeconds - seconds) / Math.max(1, seconds),
  };
}

/** The nearest-rank percentile (0 < p ≤ 1) of a sample; undefined for an empty one. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

export interface Estimate {
  medianSeconds: number;
  p90Seconds: number;
  runs: number;
}

export function estimateOf(d: ShapeDurations): Estimate | undefined {
  const median = percentile(d.samples, 0.5);
  if (median === undefined) return undefined;
  return { medianSeconds: median, p90Seconds: percentile(d.samples, 0.9)!, runs: d.samples.length };
}

/** The running seconds of an attempt from its start and finish; undefined without both. */
export function runningSeconds(startedAt: string | undefined, finishedAt: string | undefined): number | undefined {
  if (!startedAt || !finishedAt) return undefined;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}
