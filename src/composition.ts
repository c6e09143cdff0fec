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
import { TableDurationStore } from "./store/durationStore.js";
import { BlobLogStore } from "./store/logStore.js";
import { QueueOutbox } from "./store/outbox.js";
import { StoragePoisonQueues } from "./store/poison.js";
import { AciBackend } from "./aci/backend.js";
import { createAciClient } from "./aci/client.js";
import { CostManagementBills, createCostClient } from "./aci/bills.js";
import { systemClock, type Deps, type Logger } from "./scheduler/deps.js";
import { newJobEvents } from "./jobState.js";
import { ClaimStore } from "./github/claims.js";

export const consoleLogger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export interface BuildOptions {
  /** Storage clients to use instead of building them from config.storage (one set per process). */
  storage?: StorageClients;
  /** A TokenCredential for identity-based storage instead of the one the settings ask for (tests). */
  storageCredential?: TokenCredential;
}

export function buildDeps(config: BurstConfig, log: Logger = consoleLogger, options: BuildOptions = {}): Deps {
  const storage = options.storage ?? storageClients(config.storage, options.storageCredential);
  const { queues, blobs } = storage;
  return {
    config,
    jobs: new TableJobStore(storage.table(config.names.jobsTable), storage.table(config.names.jobIndexTable)),
    ledger: new TableLedgerStore(storage.table(config.names.ledgerTable)),
    durations: new TableDurationStore(storage.table(config.names.durationsTable)),
    logs: new BlobLogStore(blobs.getContainerClient(config.names.logsContainer)),
    outbox: new QueueOutbox(queues, config.names),
    poison: new StoragePoisonQueues(queues, config.names),
    aci: new AciBackend(
      (subscriptionId, retries) => createAciClient({ subscriptionId, endpoint: config.armEndpoint, emulatorToken: config.emulatorToken, clientOptions: retries ? undefined : { retryOptions: { maxRetries: 0 } } }),
      config.maxArmConcurrency,
    ),
    bills: new CostManagementBills(createCostClient({ endpoint: config.armEndpoint, emulatorToken: config.emulatorToken })),
    claims: new ClaimStore(storage.table(config.names.githubTable)),
    clock: systemClock,
    log,
    events: newJobEvents(),
  };
}

let shared: Deps | undefined;
let sharedStorage: StorageClients | undefined;

/** The process-wide dependencies, built on first use from the environment. */
export function deps(): Deps {
  if (!shared) {
    const config = loadConfig();
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
