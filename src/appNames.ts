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

/**
 * The request body limit Burst's app runs with (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, an app
 * setting the Functions host reads): 25 MiB, GitHub's own maximum webhook payload. The
 * host refuses anything larger before buffering it; the API's own limit (1 MiB) is smaller.
 */
export const APP_MAX_REQUEST_BODY_BYTES = 25 * 1024 * 1024;

/**
 * The API key `npm start`'s host uses when BURST_API_KEY is unset (the local Functions
 * host's default), so the CLI reaches a local stack with no setup. Never a key in Azure.
 */
export const LOCAL_API_KEY = "burst-local-key";
