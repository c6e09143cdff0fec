/**
 * Events about a pool rather than one job, for the sinks of the pool's own `events`
 * (BURST_POOLS), and only when its `types` name them. `budget.threshold`: a day or month
 * window's spend reached 50, 80 or 100 % of its limit. `pool.blocked`: a launch was deferred
 * because no placement had room (at most one per 10-minute bucket).
 *
 * Exactly one per (pool, window, threshold), however many instances settle at once: the
 * sender is whoever creates the event's row in the pool's ledger partition (a conditional
 * insert; the others get 409). The row is marked sent once the event is queued; a sender
 * that crashes in between leaves it unmarked, and a settle in that pool after
 * EVENT_CLAIM_STALE_SECONDS claims and queues it again under the same id (receivers
 * deduplicate by id, as for every event).
 */
import { createHash } from "node:crypto";
import type { PoolConfig } from "../config.js";
import type { Deps } from "../scheduler/deps.js";
import { roundUsd } from "../pricing.js";
import type { CloudEvent } from "./cloudEvent.js";
import { eventSource } from "./emit.js";
import { SINKS } from "./spec.js";

export const BUDGET_THRESHOLDS = [50, 80, 100] as const;
/** How long a claimed but unsent pool event waits before another instance may send it. */
export const EVENT_CLAIM_STALE_SECONDS = 300;

export interface BudgetThresholdData {
  pool: string;
  window: "day" | "month";
  /** The window's UTC date (YYYY-MM-DD) or month (YYYY-MM). */
  windowKey: string;
  /** Percent of the limit reached: 50, 80 or 100. */
  threshold: number;
  spentUsd: number;
  limitUsd: number;
}

/** pool.blocked: a launch waits because no placement has room; `reason` is the job's waiting reason (`capacity: …`). */
export interface PoolBlockedData {
  pool: string;
  reason: string;
}

/** pool.blocked is told at most once per pool per this many seconds. */
export const BLOCKED_BUCKET_SECONDS = 600;

/** Queues a budget.threshold event for each threshold the pool's windows have reached and not yet told of. */
export async function sendBudgetEvents(deps: Deps, pool: PoolConfig, now: Date): Promise<void> {
  if (!pool.events?.types.includes("budget.threshold")) return;
  const snap = await deps.ledger.snapshot(pool.name, now);
  const windows = [
    { window: "day" as const, windowKey: snap.day, spentUsd: snap.spentDayUsd, limitUsd: pool.budget.dailyUsd },
    { window: "month" as const, windowKey: snap.month, spentUsd: snap.spentMonthUsd, limitUsd: pool.budget.monthlyUsd },
  ];
  for (const w of windows) {
    if (w.limitUsd === undefined) continue;
    for (const threshold of BUDGET_THRESHOLDS) {
      if (w.spentUsd < (w.limitUsd * threshold) / 100) break;
      const key = `event-budget-${w.window}-${w.windowKey}-${threshold}`;
      const data: BudgetThresholdData = {
        pool: pool.name,
        window: w.window,
        windowKey: w.windowKey,
        threshold,
        spentUsd: roundUsd(w.spentUsd),
        limitUsd: w.limitUsd,
      };
      await claimAndSend(deps, pool, key, "com.burst.budget.threshold", now, data);
    }
  }
}

/**
 * Queues a pool.blocked event when a launch is deferred because no placement has room,
 * at most once per pool per BLOCKED_BUCKET_SECONDS bucket (by the same conditional insert).
 */
export async function sendPoolBlocked(deps: Deps, pool: PoolConfig, reason: string, now: Date): Promise<void> {
  if (!pool.events?.types.includes("pool.blocked")) return;
  const bucket = new Date(Math.floor(now.getTime() / (BLOCKED_BUCKET_SECONDS * 1000)) * BLOCKED_BUCKET_SECONDS * 1000).toISOString();
  await claimAndSend(deps, pool, `event-blocked-${bucket}`, "com.burst.pool.blocked", now, { pool: pool.name, reason });
}

/** Sends the event only if this caller claims its row; marks it sent once queued. */
async function claimAndSend(
  deps: Deps,
  pool: PoolConfig,
  key: string,
  type: string,
  now: Date,
  data: BudgetThresholdData | PoolBlockedData,
): Promise<void> {
  if (!(await deps.ledger.claimEvent(pool.name, key, now, EVENT_CLAIM_STALE_SECONDS))) return;
  await sendPoolEvent(deps, pool, poolEvent(deps, key, type, now, data));
  await deps.ledger.eventSent(pool.name, key);
}

function poolEvent(deps: Deps, key: string, type: string, now: Date, data: BudgetThresholdData | PoolBlockedData): CloudEvent {
  return {
    specversion: "1.0",
    // From the pool and the row's key alone: a resend after a crash has the same id.
    id: createHash("sha256").update(`${data.pool}\n${key}`).digest("hex").slice(0, 32),
    source: eventSource(deps, data.pool),
    type,
    time: now.toISOString(),
    subject: `pools/${data.pool}`,
    datacontenttype: "application/json",
    data,
  };
}

async function sendPoolEvent(deps: Deps, pool: PoolConfig, event: CloudEvent): Promise<void> {
  for (const sink of SINKS.filter((s) => pool.events?.[s])) await deps.outbox.send("events", { pool: pool.name, sink, try: 1, event });
}
