/**
 * Timing arithmetic for monitoring, pure: when to poll a job and when to read its log.
 * (The retry backoff is in retryBackoff.ts.)
 *
 * A poll of a running job costs one ARM read (GET with the instance view); reading
 * its log costs another. The pool's polls must stay within its share of each
 * subscription's ARM read rate, so the interval never drops below the most groups the
 * pool can have live in one subscription ÷ armReadsPerSecond. Within that, polls are frequent early (most jobs
 * are short) and spread out as a job keeps running, and a poll always lands on the
 * job's deadline.
 */

export interface PollPolicy {
  maxConcurrency: number;
  armReadsPerSecond: number;
  minPollSeconds: number;
  maxPollSeconds: number;
  /** Where its groups go; without them, every group is in one subscription. */
  placements?: readonly { subscriptionId: string; limits: { groups: number } }[];
}

/**
 * The floor that keeps a full pool's polling inside its ARM read share. ARM's read bucket
 * is per subscription, and a subscription holds at most its placements' group quotas: a
 * pool of 1,000 slots over five subscriptions of 200 groups polls each at 200 ÷ rate.
 */
export function readBudgetFloorSeconds(p: PollPolicy): number {
  const perSubscription = new Map<string, number>();
  for (const pl of p.placements ?? []) perSubscription.set(pl.subscriptionId, (perSubscription.get(pl.subscriptionId) ?? 0) + pl.limits.groups);
  const most = perSubscription.size > 0 ? Math.min(p.maxConcurrency, Math.max(...perSubscription.values())) : p.maxConcurrency;
  return most / p.armReadsPerSecond;
}

/**
 * `elapsedSeconds` counts from the launch while the group is provisioning, from the
 * container's start once it runs.
 */
export function pollDelaySeconds(p: PollPolicy, elapsedSeconds: number, provisioning: boolean, secondsToDeadline?: number): number {
  // While the image is pulled nothing needs watching closely, and pulls take from seconds to
  // minutes on ACI: back off with the time spent so far. Once running, start tight and relax slowly.
  const wanted = provisioning ? Math.min(10, Math.max(2, Math.max(0, elapsedSeconds) / 2)) : p.minPollSeconds + Math.max(0, elapsedSeconds) / 60;
  let d = Math.min(p.maxPollSeconds, Math.max(p.minPollSeconds, readBudgetFloorSeconds(p), wanted));
  if (secondsToDeadline !== undefined) d = Math.min(d, Math.max(0.2, secondsToDeadline));
  return d;
}

/**
 * When to read the log next. ACI keeps only the last 1,000 lines / 16 KB once a group
 * stops, so Burst reads before a chatty job could overflow that (aiming at a third of
 * it), and at least every `maxSeconds` so followers see fresh output.
 */
export function logReadDelaySeconds(linesSinceLast: number, bytesSinceLast: number, secondsSinceLast: number, floorSeconds: number, maxSeconds = 30): number {
  if (secondsSinceLast <= 0) return floorSeconds;
  const lineRate = linesSinceLast / secondsSinceLast;
  const byteRate = bytesSinceLast / secondsSinceLast;
  const byLines = lineRate > 0 ? 333 / lineRate : Infinity;
  const byBytes = byteRate > 0 ? (16 * 1024) / 3 / byteRate : Infinity;
  return Math.max(floorSeconds, Math.min(maxSeconds, byLines, byBytes));
}
