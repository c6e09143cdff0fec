/**
 * The seams: what the scheduler's steps need from the outside world, behind small
 * interfaces (composition.ts builds the real ones).
 */
import type { BurstConfig } from "../config.js";
import type { JobStore } from "../store/jobStore.js";
import type { LedgerStore } from "../store/ledgerStore.js";
import type { DurationStore } from "../store/durationStore.js";
import type { LogStore } from "../store/logStore.js";
import type { Outbox } from "../store/outbox.js";
import type { ContainerBackend } from "../aci/backend.js";
import type { BillSource } from "../aci/bills.js";
import type { PoisonQueues } from "../store/poison.js";
import type { JobEvents } from "../jobState.js";
import type { ClaimStore } from "../github/claims.js";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface Deps {
  config: BurstConfig;
  jobs: JobStore;
  ledger: LedgerStore;
  /** Learned run times per job shape. */
  durations: DurationStore;
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
}
