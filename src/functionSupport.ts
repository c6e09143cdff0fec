/**
 * Shared glue for the thin adapters in functions/: the process-wide dependencies, and
 * how a queue handler reports failure.
 */
import type { InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { UnreadableMessage, errorMessage, isTransient } from "./errors.js";
import { deps } from "./runtime.js";
import type { SpecSource } from "./scheduler/dispatch.js";
import { isNotFound } from "./store/tables.js";
import { MAX_DEQUEUE_COUNT } from "./scheduler/abandon.js";

export { deps };

/**
 * Runs a queue handler. A failure is rethrown so the host retries the message and, after
 * maxDequeueCount tries, moves the original bytes to the poison queue. (The handler only
 * sees the message parsed, so it could not copy it there faithfully itself.)
 */
export async function handleQueueMessage(context: InvocationContext, work: () => Promise<unknown>, onLastFailure?: (err: unknown) => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    const tries = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const what = err instanceof UnreadableMessage ? "unreadable message" : "failed";
    context.error(`${what} (try ${tries} of ${MAX_DEQUEUE_COUNT}): ${errorMessage(err)}`);
    // The host parks the message in the poison queue after this: whatever it was doing must not stay half-done.
    // Not for a passing outage, though: the reconciler resumes those once storage and ARM answer again.
    if (onLastFailure && tries >= MAX_DEQUEUE_COUNT && !(err instanceof UnreadableMessage) && !isTransient(err)) {
      await onLastFailure(err).catch((e: unknown) => context.error(`could not end what the failing message was doing: ${errorMessage(e)}`));
    }
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
    async deleteSpecBlob(name) {
      await container.getBlockBlobClient(name).deleteIfExists();
    },
  };
}

export function messageMeta(context: InvocationContext): { id: string; insertionTime: Date } {
  const m = context.triggerMetadata ?? {};
  return { id: String(m.id), insertionTime: new Date(String(m.insertionTime)) };
}
