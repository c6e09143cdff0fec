/**
 * Paces ARM calls within the subscription's token buckets, instead of sending them and
 * recovering from 429s. ARM throttles per subscription (and per principal) with token
 * buckets: reads 250 at 25/s, writes 200 at 10/s, deletes 200 at 10/s (ARM's throttling
 * documentation, "Understand how Azure Resource Manager throttles requests"; the emulator's
 * packages/aci-emulator/src/throttle.ts enforces the same buckets).
 * Every answer says what is left in the bucket it was charged to, in
 * `x-ms-ratelimit-remaining-subscription-reads` / `-writes` / `-deletes`.
 *
 * The pacer keeps, per subscription and kind, a local bucket sized to this deployment's
 * share of ARM's (`BURST_ARM_SHARE`, default 0.8: the rest is left to every other reader
 * of the subscription, such as the portal or other tools). Before a call it waits for a
 * token. After each answer it adapts: when ARM says fewer tokens remain than the share of
 * the bucket left to others, it lowers its own to what is really there, so other callers
 * of the same subscription are respected; on a 429 it empties its bucket and waits out
 * `Retry-After`. It is keyed by subscription, so a pool spread over several subscriptions
 * gets one pacer entry per subscription, each with its own buckets.
 *
 * One process only: several Function instances each pace their own calls. Their sum is
 * bounded by the header adaptation (every instance sees the shared bucket's level), not
 * by the configured share alone.
 */
export type ArmKind = "read" | "write" | "delete";

export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

/** ARM's published subscription limits (the buckets the emulator also enforces). */
export const ARM_SUBSCRIPTION_LIMITS: Record<ArmKind, BucketLimit> = {
  read: { capacity: 250, refillPerSecond: 25 },
  write: { capacity: 200, refillPerSecond: 10 },
  delete: { capacity: 200, refillPerSecond: 10 },
};

export const REMAINING_HEADER: Record<ArmKind, string> = {
  read: "x-ms-ratelimit-remaining-subscription-reads",
  write: "x-ms-ratelimit-remaining-subscription-writes",
  delete: "x-ms-ratelimit-remaining-subscription-deletes",
};

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

interface Bucket {
  tokens: number;
  at: number;
  /** Nothing goes out before this (a 429's Retry-After). */
  blockedUntil: number;
  /** Callers waiting, in order: each takes the next token. */
  queue: Promise<void>;
}

/** GET and HEAD are reads, DELETE deletes, everything else (PUT, PATCH, POST actions) writes, as ARM charges them. */
export function kindOf(method: string): ArmKind {
  const m = method.toUpperCase();
  return m === "GET" || m === "HEAD" ? "read" : m === "DELETE" ? "delete" : "write";
}

export class ArmPacer {
  readonly #buckets = new Map<string, Bucket>();
  readonly #limits: Record<ArmKind, BucketLimit>;

  /**
   * `share` (0–1]: the part of each of the subscription's buckets this process may use.
   * `limits`: the subscription's buckets (ARM's published ones by default).
   */
  constructor(
    readonly share = 0.8,
    limits: Record<ArmKind, BucketLimit> = ARM_SUBSCRIPTION_LIMITS,
    private readonly clock: PacerClock = realClock,
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`ARM pacer share must be in (0, 1], got ${share}`);
    this.#limits = limits;
  }

  #mine(kind: ArmKind): BucketLimit {
    const l = this.#limits[kind];
    return { capacity: Math.max(1, Math.floor(l.capacity * this.share)), refillPerSecond: l.refillPerSecond * this.share };
  }

  #bucket(subscriptionId: string, kind: ArmKind): Bucket {
    const key = `${subscriptionId.toLowerCase()}|${kind}`;
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: this.#mine(kind).capacity, at: this.clock.now(), blockedUntil: 0, queue: Promise.resolve() };
      this.#buckets.set(key, b);
    }
    return b;
  }

  #refill(b: Bucket, kind: ArmKind): void {
    const mine = this.#mine(kind);
    const now = this.clock.now();
    b.tokens = Math.min(mine.capacity, b.tokens + ((now - b.at) / 1000) * mine.refillPerSecond);
    b.at = now;
  }

  /** Waits until a call of this kind may go out for this subscription, and takes its token. */
  acquire(subscriptionId: string, kind: ArmKind): Promise<void> {
    const b = this.#bucket(subscriptionId, kind);
    const turn = b.queue.then(async () => {
      for (;;) {
        this.#refill(b, kind);
        const now = this.clock.now();
        if (now < b.blockedUntil) {
          await this.clock.sleep(b.blockedUntil - now);
          continue;
        }
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return;
        }
        await this.clock.sleep(Math.ceil(((1 - b.tokens) / this.#mine(kind).refillPerSecond) * 1000));
      }
    });
    b.queue = turn;
    return turn;
  }

  /**
   * What ARM said: the tokens left in the subscription's bucket (the header), and the
   * status. A 429 blocks the bucket for `retryAfterSeconds`.
   */
  observe(subscriptionId: string, kind: ArmKind, answer: { status: number; remaining?: number; retryAfterSeconds?: number }): void {
    const b = this.#bucket(subscriptionId, kind);
    this.#refill(b, kind);
    if (answer.status === 429) {
      b.tokens = 0;
      b.blockedUntil = Math.max(b.blockedUntil, this.clock.now() + (answer.retryAfterSeconds ?? 1) * 1000);
      return;
    }
    if (answer.remaining === undefined || !Number.isFinite(answer.remaining)) return;
    // Keep what is left to others untouched: use only what remains above their part of the bucket.
    const othersPart = this.#limits[kind].capacity - this.#mine(kind).capacity;
    b.tokens = Math.min(b.tokens, Math.max(0, answer.remaining - othersPart));
  }

  /** Tokens this process has now (for tests and the bench). */
  available(subscriptionId: string, kind: ArmKind): number {
    const b = this.#bucket(subscriptionId, kind);
    this.#refill(b, kind);
    return b.tokens;
  }
}
