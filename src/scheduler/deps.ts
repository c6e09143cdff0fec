/**
 * The seams: what the scheduler's steps need from the outside world, behind small
 * interfaces (composition.ts builds the real ones).
 */
import type { BurstConfig } from "../config.js";
import type { JobStore } from "../store/jobStore.js";
import type { LedgerStore } from "../store/ledgerStore.js";
import type { PlacementStore } from "../store/placementStore.js";
import type { LogStore } from "../store/logStore.js";
import type { Outbox } from "../store/outbox.js";
import type { ContainerBackend } from "../aci/backend.js";
import type { BillSource } from "../aci/bills.js";
import type { PoisonQueues } from "../store/poison.js";
import type { JobEvents } from "../jobState.js";
import type { ClaimStore } from "../github/claims.js";
import type { Telemetry } from "../telemetry/telemetry.js";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Sentences, with the structured fields they are about when the caller has them (telemetry/logger.ts). */
export type Logger = import("../telemetry/logger.js").StructuredLogger;

export interface Deps {
  config: BurstConfig;
  jobs: JobStore;
  ledger: LedgerStore;
  /** Room held and creates sent per subscription and region, and each placement's circuit breaker. */
  placements: PlacementStore;
  logs: LogStore;
  outbox: Outbox;
  /** Where messages that kept failing are parked, to be seen, sent back or thrown away. */
  poison: PoisonQueues;
  aci: ContainerBackend;
  /** What Azure charged (Cost Management), for the true-up. */
  bills: BillSource;
  clock: Clock;
  log: Logger;
  /** GitHub workflow-job claims, retired with their runner jobs (retention.ts). */
  claims: Pick<ClaimStore, "retire">;
  /** Every transition this process writes, told once it is stored. */
  events: JobEvents;
  /** Metrics and traces (telemetry/telemetry.ts); absent, nothing is measured. */
  telemetry?: Telemetry;
}
