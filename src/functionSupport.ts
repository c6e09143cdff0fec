/**
 * Shared glue for the thin adapters in functions/: the process-wide dependencies, and
 * how a queue handler reports failure.
 */
import type { InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { UnreadableMessage, errorMessage } from "./errors.js";
import { deps } from "./runtime.js";
import type { SpecSource } from "./scheduler/dispatch.js";
import { isNotFound } from "./store/tables.js";

export { deps };

/**
 * Runs a queue handler. A failure is rethrown so the host retries the message and, after
 * maxDequeueCount tries, moves the original bytes to the poison queue. (The handler only
 * sees the message parsed, so it could not copy it there faithfully itself.)
 */
export async function handleQueueMessage(context: InvocationContext, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    const what = err instanceof UnreadableMessage ? "unreadable message" : "failed";
    context.error(`${what} (try ${context.triggerMetadata?.dequeueCount}): ${errorMessage(err)}`);
    throw err;
  }
}

export function specSource(): SpecSource {
  const d = deps();
  const container = BlobServiceClient.fromConnectionString(d.config.storageConnection).getContainerClient(d.config.names.specsContainer);
  return {
    async readSpecBlob(name) {
      try {
        return (await container.getBlockBlobClient(name).downloadToBuffer()).toString("utf8");
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

export function messageMeta(context: InvocationContext): { id: string; insertionTime: Date } {
  const m = context.triggerMetadata ?? {};
  return { id: String(m.id), insertionTime: new Date(String(m.insertionTime)) };
}
