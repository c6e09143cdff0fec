/**
 * Queue names for function registrations. Read when the app loads — the Functions host
 * provides app settings before it loads the app — and kept apart from the full
 * config so registering never needs more than the storage prefix.
 */
import { storageNames, type StorageNames } from "./config.js";

export function appNames(env: NodeJS.ProcessEnv = process.env): StorageNames {
  return storageNames(env.BURST_STORAGE_PREFIX || "burst");
}

export const STORAGE_CONNECTION = "AzureWebJobsStorage";
