/**
 * The composition root: builds the scheduler's dependencies from app settings — the
 * real Azure SDK clients for Storage and ACI (pointed at Azurite and the emulator in
 * local runs). Built once per process and shared by every function.
 */
import { loadConfig, type BurstConfig } from "./config.js";
import { storageClients, type StorageClients } from "./storage.js";
import type { TokenCredential } from "./aci/client.js";
import { TableJobStore } from "./store/jobStore.js";
import { TableLedgerStore } from "./store/ledgerStore.js";
import { TablePlacementStore } from "./store/placementStore.js";
import { BlobLogStore } from "./store/logStore.js";
import { QueueOutbox } from "./store/outbox.js";
import { StoragePoisonQueues } from "./store/poison.js";
import { AciBackend } from "./aci/backend.js";
import { createAciClient } from "./aci/client.js";
import { CostManagementBills, createCostClient } from "./aci/bills.js";
import { systemClock, type Deps, type Logger } from "./scheduler/deps.js";
import { newJobEvents } from "./jobState.js";
import { ClaimStore } from "./github/claims.js";
import { armPolicy, attachJobTelemetry, Telemetry } from "./telemetry/telemetry.js";
import { jsonLogger, logTransitions } from "./telemetry/logger.js";
import { startTelemetry } from "./telemetry/setup.js";

/** JSON lines on the console, which the Functions host forwards to its log stream (telemetry/logger.ts). */
export const consoleLogger: Logger = jsonLogger();

export interface BuildOptions {
  /** Storage clients to use instead of building them from config.storage (one set per process). */
  storage?: StorageClients;
  /** A TokenCredential for identity-based storage instead of the one the settings ask for (tests). */
  storageCredential?: TokenCredential;
  /** Where metrics and traces go; default: the global OpenTelemetry providers (telemetry/setup.ts). */
  telemetry?: Telemetry;
}

export function buildDeps(config: BurstConfig, log: Logger = consoleLogger, options: BuildOptions = {}): Deps {
  const storage = options.storage ?? storageClients(config.storage, options.storageCredential);
  const { queues, blobs } = storage;
  const telemetry = options.telemetry ?? new Telemetry();
  const events = newJobEvents();
  attachJobTelemetry(events, telemetry);
  events.on(logTransitions(log));
  const arm = { additionalPolicies: [{ policy: armPolicy(telemetry), position: "perRetry" as const }] };
  return {
    config,
    jobs: new TableJobStore(storage.table(config.names.jobsTable), storage.table(config.names.jobIndexTable)),
    ledger: new TableLedgerStore(storage.table(config.names.ledgerTable)),
    placements: new TablePlacementStore(storage.table(config.names.ledgerTable)),
    logs: new BlobLogStore(blobs.getContainerClient(config.names.logsContainer)),
    outbox: new QueueOutbox(queues, config.names),
    poison: new StoragePoisonQueues(queues, config.names),
    aci: new AciBackend(
      (subscriptionId, retries) =>
        createAciClient({
          subscriptionId,
          endpoint: config.armEndpoint,
          emulatorToken: config.emulatorToken,
          clientOptions: retries ? arm : { ...arm, retryOptions: { maxRetries: 0 } },
        }),
      config.maxArmConcurrency,
    ),
    bills: new CostManagementBills(createCostClient({ endpoint: config.armEndpoint, emulatorToken: config.emulatorToken })),
    claims: new ClaimStore(storage.table(config.names.githubTable)),
    clock: systemClock,
    log,
    events,
    telemetry,
  };
}

let shared: Deps | undefined;
let sharedStorage: StorageClients | undefined;

/** The process-wide dependencies, built on first use from the environment. */
export function deps(): Deps {
  if (!shared) {
    const config = loadConfig();
    startTelemetry(process.env, consoleLogger);
    sharedStorage = storageClients(config.storage);
    shared = buildDeps(config, consoleLogger, { storage: sharedStorage });
  }
  return shared;
}

/** The process-wide storage clients (one credential, one connection pool), for what the scheduler's stores do not cover. */
export function appStorage(): StorageClients {
  deps();
  return sharedStorage!;
}
