/**
 * How Burst reaches its storage account, read the way the Functions host reads a
 * connection (its "identity-based connections" convention), so one set of app settings
 * serves the host's triggers and Burst's own Table, Blob and Queue clients:
 *
 * - `AzureWebJobsStorage`: a connection string (Azurite locally, or an account key).
 * - `AzureWebJobsStorage__accountName`: the account in Azure's public cloud, signed in
 *   with an identity; or `__blobServiceUri` + `__queueServiceUri` + `__tableServiceUri`
 *   (any cloud, or Azurite over HTTPS). Burst needs all three services.
 * - `AzureWebJobsStorage__credential: managedidentity` with `__clientId` picks a
 *   user-assigned managed identity; without them DefaultAzureCredential signs in
 *   (a managed identity in Azure, `az login` on a laptop).
 *
 * Source: "Connecting to host storage with an identity" and "Common properties for
 * identity-based connections", https://learn.microsoft.com/azure/azure-functions/functions-reference
 */
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";
import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import type { TokenCredential } from "./aci/client.js";
import { ConfigError } from "./errors.js";
import { tableClient } from "./store/tables.js";

export type StorageSettings =
  | { kind: "connectionString"; connectionString: string }
  | {
      kind: "identity";
      blobUrl: string;
      queueUrl: string;
      tableUrl: string;
      /** `managedidentity` (AzureWebJobsStorage__credential) or, unset, DefaultAzureCredential. */
      credential: "managedidentity" | "default";
      clientId?: string;
    };

const SERVICES = ["blob", "queue", "table"] as const;

/** The storage settings under `name` (AzureWebJobsStorage), or an error naming what to set. */
export function readStorageSettings(env: NodeJS.ProcessEnv, name = "AzureWebJobsStorage"): StorageSettings {
  const connectionString = env[name];
  if (connectionString) return { kind: "connectionString", connectionString };
  const setting = (suffix: string) => env[`${name}__${suffix}`] || undefined;
  const account = setting("accountName");
  const uris = SERVICES.map((s) => setting(`${s}ServiceUri`));
  if (!account && uris.every((u) => u === undefined)) {
    throw new ConfigError(
      `${name} is not set: it must hold a storage connection string, or name the account for an identity with ${name}__accountName (or ${name}__blobServiceUri, __queueServiceUri and __tableServiceUri)`,
    );
  }
  if (account && !/^[a-z0-9]{3,24}$/.test(account)) {
    throw new ConfigError(
      `${name}__accountName must be a storage account name (3-24 lowercase letters and digits), got ${JSON.stringify(account)}`,
    );
  }
  const [blobUrl, queueUrl, tableUrl] = SERVICES.map((s, i) => {
    const uri = uris[i] ?? (account ? `https://${account}.${s}.core.windows.net` : undefined);
    if (uri === undefined)
      throw new ConfigError(
        `${name}__${s}ServiceUri is not set: Burst uses blobs, queues and tables, so with service URIs it needs all three`,
      );
    // A bearer token must never travel in clear; the SDKs refuse it too, less clearly.
    if (!/^https:\/\/[^/\s]+/.test(uri)) throw new ConfigError(`${name}__${s}ServiceUri must be an https URL, got ${JSON.stringify(uri)}`);
    return uri.replace(/\/+$/, "");
  }) as [string, string, string];
  const credential = setting("credential");
  if (credential !== undefined && credential.toLowerCase() !== "managedidentity") {
    throw new ConfigError(
      `${name}__credential must be "managedidentity" (or unset, for DefaultAzureCredential), got ${JSON.stringify(credential)}`,
    );
  }
  const clientId = setting("clientId");
  return {
    kind: "identity",
    blobUrl,
    queueUrl,
    tableUrl,
    credential: credential ? "managedidentity" : "default",
    ...(clientId ? { clientId } : {}),
  };
}

/** The credential the settings ask for. */
export function storageCredential(settings: Extract<StorageSettings, { kind: "identity" }>): TokenCredential {
  if (settings.credential === "managedidentity") {
    return settings.clientId ? new ManagedIdentityCredential({ clientId: settings.clientId }) : new ManagedIdentityCredential();
  }
  return new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {});
}

export interface StorageClients {
  queues: QueueServiceClient;
  blobs: BlobServiceClient;
  table(name: string): TableClient;
}

/**
 * Burst's clients for the account. `credential` replaces the one the settings ask for
 * (tests give their own TokenCredential).
 */
export function storageClients(settings: StorageSettings, credential?: TokenCredential): StorageClients {
  if (settings.kind === "connectionString") {
    const c = settings.connectionString;
    return {
      queues: QueueServiceClient.fromConnectionString(c),
      blobs: BlobServiceClient.fromConnectionString(c),
      table: (name) => tableClient(c, name),
    };
  }
  const cred = credential ?? storageCredential(settings);
  return {
    queues: new QueueServiceClient(settings.queueUrl, cred),
    blobs: new BlobServiceClient(settings.blobUrl, cred),
    table: (name) => new TableClient(settings.tableUrl, name, cred),
  };
}

/** Where the account is, for one-line descriptions (never a key). */
export function describeStorage(settings: StorageSettings): string {
  if (settings.kind === "identity") {
    const who =
      settings.credential === "managedidentity"
        ? `managed identity${settings.clientId ? ` ${settings.clientId}` : ""}`
        : "DefaultAzureCredential";
    return `${settings.tableUrl.replace(/^https:\/\/([^./]+)\.table\..*$/, "account $1")} (tables ${settings.tableUrl}), signed in with ${who}`;
  }
  const c = settings.connectionString;
  const parts = Object.fromEntries(
    c
      .split(";")
      .map((p) => p.split(/=(.*)/s))
      .filter((kv) => kv[1] !== undefined)
      .map(([k, v]) => [k!.toLowerCase(), v!]),
  );
  if (/UseDevelopmentStorage=true/i.test(c)) return "the local storage emulator (UseDevelopmentStorage)";
  return `account ${parts.accountname ?? "(from a SAS or endpoint)"}${parts.tableendpoint ? ` at ${parts.tableendpoint}` : parts.endpointsuffix ? ` (${parts.endpointsuffix})` : ""}`;
}
