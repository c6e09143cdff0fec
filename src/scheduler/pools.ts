/** A job's pool, looked up by name, with an error that lists the configured ones. */
import type { PoolConfig } from "../config.js";
import type { Deps } from "./deps.js";

export class UnknownPool extends Error {
  override name = "UnknownPool";
}

export function poolOf(deps: Deps, name: string): PoolConfig {
  const p = deps.config.pools.get(name);
  if (!p) throw new UnknownPool(`pool ${JSON.stringify(name)} is not configured (configured: ${[...deps.config.pools.keys()].join(", ")})`);
  return p;
}
