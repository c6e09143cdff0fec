/** A job's pool, looked up by name, with an error that lists the configured ones. */
import type { PoolConfig } from "../config.js";
import type { Attempt } from "../model.js";
import type { Placement, Priority } from "../placements.js";
import type { Deps } from "./deps.js";

export class UnknownPool extends Error {
  override name = "UnknownPool";
}

export function poolOf(deps: Deps, name: string): PoolConfig {
  const p = deps.config.pools.get(name);
  if (!p) throw new UnknownPool(`pool ${JSON.stringify(name)} is not configured (configured: ${[...deps.config.pools.keys()].join(", ")})`);
  return p;
}

/**
 * Where an attempt's group is: its recorded placement, looked up in the pool (or, if the
 * pool no longer lists it, rebuilt from its id so the group can still be found and
 * deleted); the pool's first placement for an attempt that recorded none (made before
 * placements, or not placed yet).
 */
export function placementOf(pool: PoolConfig, attempt: Pick<Attempt, "placement"> | undefined): Placement {
  const id = attempt?.placement;
  if (!id) return pool.placements[0]!;
  const known = pool.placements.find((p) => p.id === id);
  if (known) return known;
  const [subscriptionId = "", resourceGroup = "", region = "", priority = "Regular"] = id.split("/");
  return {
    id,
    subscriptionId,
    resourceGroup,
    region,
    priority: priority as Priority,
    prices: pool.prices,
    limits: pool.placements[0]!.limits,
  };
}

/** One attempt's reservation in the placement store. */
export function holderKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

/** The distinct subscription and resource group pairs a pool's groups may be in. */
export function groupScopes(pool: PoolConfig): { subscriptionId: string; resourceGroup: string }[] {
  const seen = new Map<string, { subscriptionId: string; resourceGroup: string }>();
  for (const p of pool.placements)
    seen.set(`${p.subscriptionId}/${p.resourceGroup}`.toLowerCase(), { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup });
  return [...seen.values()];
}
