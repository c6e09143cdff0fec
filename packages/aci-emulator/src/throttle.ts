/**
 * Throttling state: ARM's token buckets per subscription (reads, writes, deletes) and
 * ACI's create/delete windows per subscription and region. The arithmetic lives in
 * tokenBucket.ts and rateWindow.ts; this keeps the state and names the headers.
 */
import type { Clock } from "./clock.js";
import type { EmulatorLimits } from "./config.js";
import { decide, prune, type WindowDecision } from "./rateWindow.js";
import { fullBucket, take, type BucketState } from "./tokenBucket.js";

export type ArmKind = "read" | "write" | "delete";

export const ARM_REMAINING_HEADER: Record<ArmKind, string> = {
  read: "x-ms-ratelimit-remaining-subscription-reads",
  write: "x-ms-ratelimit-remaining-subscription-writes",
  delete: "x-ms-ratelimit-remaining-subscription-deletes",
};
export const PT5M_HEADER = "x-ms-ratelimit-remaining-subscription-resource-requests-pt5m";
export const PT1H_HEADER = "x-ms-ratelimit-remaining-subscription-resource-requests-pt1h";

export interface ArmDecision {
  admitted: boolean;
  headers: Record<string, string>;
  retryAfterSeconds: number;
}

export class Throttle {
  private buckets = new Map<string, BucketState>();
  private windows = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: () => EmulatorLimits,
  ) {}

  arm(subscriptionId: string, kind: ArmKind): ArmDecision {
    const config = this.limits().armThrottling;
    if (!config.enabled) return { admitted: true, headers: {}, retryAfterSeconds: 0 };
    const limit = kind === "read" ? config.reads : kind === "write" ? config.writes : config.deletes;
    const key = `${subscriptionId.toLowerCase()}:${kind}`;
    const now = this.clock.now();
    const result = take(this.buckets.get(key) ?? fullBucket(limit, now), limit, now);
    this.buckets.set(key, result.state);
    return {
      admitted: result.admitted,
      headers: { [ARM_REMAINING_HEADER[kind]]: String(result.remaining) },
      retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)),
    };
  }

  /** Would one more create (or delete) in this region be admitted? Does not count it. */
  window(subscriptionId: string, region: string, kind: "create" | "delete"): WindowDecision {
    const limits = this.limits()[kind === "create" ? "creates" : "deletes"];
    const key = `${subscriptionId.toLowerCase()}:${region}:${kind}`;
    const now = this.clock.now();
    const times = prune(this.windows.get(key) ?? [], now);
    this.windows.set(key, times);
    return decide(times, limits, now);
  }

  commit(subscriptionId: string, region: string, kind: "create" | "delete"): void {
    const key = `${subscriptionId.toLowerCase()}:${region}:${kind}`;
    const times = this.windows.get(key) ?? [];
    times.push(this.clock.now());
    this.windows.set(key, times);
  }

  static windowHeaders(d: WindowDecision): Record<string, string> {
    return { [PT5M_HEADER]: String(Math.max(0, d.remaining5m)), [PT1H_HEADER]: String(Math.max(0, d.remaining1h)) };
  }

  reset(): void {
    this.buckets.clear();
    this.windows.clear();
  }
}
