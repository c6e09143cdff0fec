/**
 * The composition root: builds the scheduler's dependencies from app settings — the
 * real Azure SDK clients for Storage and ACI (pointed at Azurite and the emulator in
 * local runs). Built once per process and shared by every function.
 */
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";
import { loadConfig, type BurstConfig } from "./config.js";
import { tableClient } from "./store/tables.js";
import { TableJobStore } from "./store/jobStore.js";
import { TableLedgerStore } from "./store/ledgerStore.js";
import { BlobLogStore } from "./store/logStore.js";
import { QueueOutbox } from "./store/outbox.js";
import { StoragePoisonQueues } from "./store/poison.js";
import { AciBackend } from "./aci/backend.js";
import { createAciClient } from "./aci/client.js";
import { CostManagementBills, createCostClient } from "./aci/bills.js";
import { systemClock, type Deps, type Logger } from "./scheduler/deps.js";
import { newJobEvents } from "./jobState.js";

export const consoleLogger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export function buildDeps(config: BurstConfig, log: Logger = consoleLogger): Deps {
  const queues = QueueServiceClient.fromConnectionString(config.storageConnection);
  const blobs = BlobServiceClient.fromConnectionString(config.storageConnection);
  return {
    config,
    jobs: new TableJobStore(tableClient(config.storageConnection, config.names.jobsTable), tableClient(config.storageConnection, config.names.jobIndexTable)),
    ledger: new TableLedgerStore(tableClient(config.storageConnection, config.names.ledgerTable)),
    logs: new BlobLogStore(blobs.getContainerClient(config.names.logsContainer)),
    outbox: new QueueOutbox(queues, config.names),
    poison: new StoragePoisonQueues(queues, config.names),
    aci: new AciBackend(
      (subscriptionId, retries) => createAciClient({ subscriptionId, endpoint: config.armEndpoint, emulatorToken: config.emulatorToken, clientOptions: retries ? undefined : { retryOptions: { maxRetries: 0 } } }),
      config.maxArmConcurrency,
    ),
    bills: new CostManagementBills(createCostClient({ endpoint: config.armEndpoint, emulatorToken: config.emulatorToken })),
    clock: systemClock,
    log,
    events: newJobEvents(),
  };
}

let shared: Deps | undefined;

/** The process-wide dependencies, built on first use from the environment. */
export function deps(): Deps {
  shared ??= buildDeps(loadConfig());
  return shared;
}
