/**
 * ARM's per-subscription throttling is a token bucket: a full bucket allows a burst, then
 * requests are admitted at the refill rate. Pure arithmetic; the caller keeps the state.
 */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export interface TakeResult {
  admitted: boolean;
  state: BucketState;
  /** Whole tokens left after this request, as ARM reports them in headers. */
  remaining: number;
  /** How long until one token is available again; 0 when admitted. */
  retryAfterMs: number;
}

export function fullBucket(limit: BucketLimit, now: number): BucketState {
  return { tokens: limit.capacity, updatedAt: now };
}

export function refill(state: BucketState, limit: BucketLimit, now: number): BucketState {
  const elapsed = Math.max(0, now - state.updatedAt) / 1000;
  return { tokens: Math.min(limit.capacity, state.tokens + elapsed * limit.refillPerSecond), updatedAt: Math.max(now, state.updatedAt) };
}

export function take(state: BucketState, limit: BucketLimit, now: number): TakeResult {
  const current = refill(state, limit, now);
  if (current.tokens >= 1) {
    const next = { tokens: current.tokens - 1, updatedAt: current.updatedAt };
    return { admitted: true, state: next, remaining: Math.floor(next.tokens), retryAfterMs: 0 };
  }
  const missing = 1 - current.tokens;
  const retryAfterMs = limit.refillPerSecond > 0 ? Math.ceil((missing / limit.refillPerSecond) * 1000) : Number.POSITIVE_INFINITY;
  return { admitted: false, state: current, remaining: 0, retryAfterMs };
}
