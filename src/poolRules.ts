/**
 * What a pool asks of a job spec beyond the spec's own rules, in one place for the API
 * (400, nothing created) and the queue (a Rejected record): the pool exists; the job ends
 * (a spec without timeoutSeconds gets the pool's defaultTimeoutSeconds, and none may ask
 * for more than its maxTimeoutSeconds), so no endless job holds a slot for good; its
 * priority is within the pool's maxPriority; it could ever fit the budget; and secure
 * values can be sealed; and one of its placements can take it (Spot's limits).
 */
import type { JobSpec } from "./jobSpec.js";
import type { PoolConfig } from "./config.js";
import type { SpecError } from "./model.js";
import type { KeyRing } from "./secrets.js";
import { neverFits } from "./admission.js";
import { noPlacementFor } from "./placements.js";
import { COST_CAP_MARGIN_SECONDS, minimumCostCapUsd, worstCaseUsd } from "./pricing.js";

export type PoolCheck = { ok: true; spec: JobSpec; pool: PoolConfig } | { ok: false; errors: SpecError[] };

export function applyPool(spec: JobSpec, pools: ReadonlyMap<string, PoolConfig>, secrets: KeyRing): PoolCheck {
  const pool = pools.get(spec.pool);
  if (!pool) return { ok: false, errors: [{ field: "pool", rule: `must name a configured pool (${[...pools.keys()].join(", ")})` }] };
  const errors: SpecError[] = [];
  if (spec.timeoutSeconds !== undefined && spec.timeoutSeconds > pool.maxTimeoutSeconds) {
    errors.push({ field: "timeoutSeconds", rule: `must be at most ${pool.maxTimeoutSeconds} in pool ${pool.name} (its maxTimeoutSeconds); got ${spec.timeoutSeconds}` });
  }
  if (spec.priority > pool.maxPriority) {
    errors.push({ field: "priority", rule: `must be at most ${pool.maxPriority} in pool ${pool.name} (its maxPriority); got ${spec.priority}` });
  }
  const floor = minimumCostCapUsd(spec, pool.prices);
  if (spec.maxCostUsd !== undefined && spec.maxCostUsd < floor) {
    errors.push({ field: "maxCostUsd", rule: `must be at least $${floor} for ${spec.cpu} vCPU and ${spec.memoryGb} GB in pool ${pool.name}: the first second, and a stop up to ${COST_CAP_MARGIN_SECONDS} s late; got $${spec.maxCostUsd}` });
  }
  const withTimeout: JobSpec = { ...spec, timeoutSeconds: spec.timeoutSeconds ?? pool.defaultTimeoutSeconds };
  const never = neverFits(worstCaseUsd(withTimeout, pool.prices, pool.enforcementSlackSeconds), pool.budget);
  if (never) errors.push({ field: spec.maxCostUsd !== undefined ? "maxCostUsd" : "timeoutSeconds", rule: never });
  const noPlace = noPlacementFor(pool.placements, spec.spot ?? pool.spot, spec);
  if (noPlace) errors.push({ field: "spot", rule: `${noPlace} in pool ${pool.name}` });
  if (spec.secureEnv && Object.keys(spec.secureEnv).length > 0 && !secrets.current) {
    errors.push({ field: "secureEnv", rule: "cannot be accepted: the app has no BURST_SECRET_KEY to seal secure values with" });
  }
  if (spec.events?.webhook?.secret !== undefined && !secrets.current) {
    errors.push({ field: "events.webhook.secret", rule: "cannot be accepted: the app has no BURST_SECRET_KEY to seal it with" });
  }
  if (spec.events?.eventGrid && !secrets.current) {
    errors.push({ field: "events.eventGrid.key", rule: "cannot be accepted: the app has no BURST_SECRET_KEY to seal it with" });
  }
  return errors.length ? { ok: false, errors } : { ok: true, spec: withTimeout, pool };
}
