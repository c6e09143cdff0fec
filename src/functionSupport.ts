/**
 * Shared glue for the thin adapters in functions/: the process-wide dependencies, and
 * what to do with a message that cannot be read (straight to the poison queue, since
 * retrying it could only fail again).
 */
import type { InvocationContext } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";
import { UnreadableMessage, errorMessage } from "./errors.js";
import { deps } from "./runtime.js";
import type { SpecSource } from "./scheduler/dispatch.js";
import { isNotFound } from "./store/tables.js";

export { deps };

export async function poison(queueName: string, context: InvocationContext, err: UnreadableMessage): Promise<void> {
  const d = deps();
  const raw = String(context.triggerMetadata?.queueTrigger ?? "");
  const queue = QueueServiceClient.fromConnectionString(d.config.storageConnection).getQueueClient(`${queueName}-poison`);
  await queue.createIfNotExists();
  await queue.sendMessage(Buffer.from(raw, "utf8").toString("base64"));
  context.warn(`message ${context.triggerMetadata?.id} moved to ${queueName}-poison: ${err.message}`);
}

/** Runs a queue handler; unreadable messages are poisoned instead of retried. */
export async function handleQueueMessage(queueName: string, context: InvocationContext, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof UnreadableMessage) return poison(queueName, context, err);
    context.error(`failed (attempt ${context.triggerMetadata?.dequeueCount}): ${errorMessage(err)}`);
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
