/**
 * The dashboard's one way to the HTTP API: same origin, the function key from this
 * browser's localStorage in `x-functions-key`. A 401 clears nothing by itself; the page
 * asks for the key again (main.tsx).
 */
import type { JobSummary as ApiJobSummary, PublicAttempt, PublicJob } from "../src/api/views.js";
import type { JobState } from "../src/model.js";
import type { WaitingReason } from "../src/api/waiting.js";

const KEY_ITEM = "burst.functionKey";

export const savedKey = (): string => localStorage.getItem(KEY_ITEM) ?? "";
export const saveKey = (key: string): void => localStorage.setItem(KEY_ITEM, key);
export const forgetKey = (): void => localStorage.removeItem(KEY_ITEM);

export class Unauthorized extends Error {
  override name = "Unauthorized";
}

/** `/api` from wherever the page is served (`…/ui` → `…`). */
export function apiBase(): string {
  return location.pathname.replace(/\/ui(\/.*)?$/i, "");
}

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = savedKey();
  if (key) headers.set("x-functions-key", key);
  const res = await fetch(`${apiBase()}${path}`, { ...init, headers });
  if (res.status === 401) throw new Unauthorized("the API refused the function key");
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await call(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
  return body as T;
}

/** Every page of a job list (up to `max` jobs), newest first. */
export async function allJobs(query: URLSearchParams, max = 1000): Promise<JobSummary[]> {
  const out: JobSummary[] = [];
  let token: string | null = null;
  do {
    const q = new URLSearchParams(query);
    q.set("limit", String(Math.min(1000, max)));
    if (token) q.set("continuationToken", token);
    const page: { jobs: JobSummary[]; continuationToken: string | null } = await getJson(`/jobs?${q}`);
    out.push(...page.jobs);
    token = page.continuationToken;
  } while (token && out.length < max);
  return out.slice(0, max);
}

// The API's own answer types (type-only: nothing of src/ is bundled), so the pages read
// exactly what the routes write. `placement` is read where the scheduler records one.
export type { JobState };
export const JOB_STATES: JobState[] = [
  "Waiting",
  "Admitted",
  "Launching",
  "Running",
  "Finishing",
  "Succeeded",
  "Failed",
  "TimedOut",
  "Canceled",
  "Rejected",
];
export const FINAL_STATES: JobState[] = ["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"];
export const WAITING_REASONS: WaitingReason[] = ["slot", "budget", "retry-backoff", "create-throttled", "admitting", "dependencies"];

/** Where an attempt ran, once the scheduler records it (the regions work); shown as it comes. */
export type Placement = string | { region?: string; [k: string]: unknown };

export type JobSummary = ApiJobSummary & { placement?: Placement };
export type Attempt = PublicAttempt & { placement?: Placement };
export type Job = Omit<PublicJob, "attempts"> & { attempts: Attempt[]; placement?: Placement };

export interface BudgetWindow {
  window: string;
  limitUsd: number | null;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number | null;
}

export interface Pool {
  name: string;
  region: string;
  maxConcurrency: number;
  slotsInUse: number;
  slotsFree: number;
  waiting: number;
  maxWaiting: number;
  budget: { day: BudgetWindow; month: BudgetWindow };
}

export interface CostRow {
  pool?: string;
  day?: string;
  job?: string;
  costUsd: number;
  billedUsd: number | null;
  differenceUsd: number | null;
  jobs: number;
  attempts: number;
  billedSeconds: number;
}

export interface Schedule {
  name: string;
  cron: string;
  timeZone: string;
  suspend: boolean;
  nextRun: string | null;
  lastRun: { tick: string; outcome: string; jobId: string | null } | null;
}
