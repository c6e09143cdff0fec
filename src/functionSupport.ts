/**
 * Shared glue for the thin adapters in functions/: the process-wide dependencies, and
 * how a queue handler reports failure.
 */
import type { InvocationContext } from "@azure/functions";
import { UnreadableMessage, errorMessage, isTransient } from "./errors.js";
import { appStorage, deps } from "./composition.js";
import { checkAppSettings } from "./config.js";
import { loadGitHubSettings } from "./github/settings.js";
import type { MessageMeta, SpecSource } from "./scheduler/dispatch.js";
import { isNotFound } from "./store/tables.js";
import { MAX_DEQUEUE_COUNT, abandonJob, type Step } from "./scheduler/abandon.js";
import { logLine } from "./telemetry/logger.js";

export { deps };

// Checked when the app loads: a bad setting stops the app from loading, naming the setting,
// the field and the bad value, instead of every call failing later.
checkAppSettings(process.env, loadGitHubSettings);

/**
 * Runs a queue handler. A failure is rethrown so the host retries the message and, after
 * maxDequeueCount tries, moves the original bytes to the poison queue. On the last try,
 * `onLastFailure` first gets the error: to end what the message was doing (so it holds
 * nothing for good), or to park a safe copy itself, answering true, in which case the
 * original is deleted instead of moved.
 */
export async function handleQueueMessage(context: InvocationContext, work: () => Promise<unknown>, onLastFailure?: (err: unknown, tries: number) => Promise<boolean | void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    const tries = Number(context.triggerMetadata?.dequeueCount ?? 1);
    // Structured, as Burst's own lines are (telemetry/logger.ts): the function is the step.
    const error = (message: string) => context.error(logLine("error", message, { step: context.functionName }));
    const unreadable = err instanceof UnreadableMessage;
    // No retry can make an unreadable message readable: hand it over now, on one line, if the step can.
    if (unreadable && onLastFailure && (await onLastFailure(err, tries).catch(() => false)) === true) {
      error(`unreadable message, moved to the poison queue (see \`burst poison\`): ${errorMessage(err)}`);
      return;
    }
    error(`${unreadable ? "unreadable message" : "failed"} (try ${tries} of ${MAX_DEQUEUE_COUNT}): ${errorMessage(err)}`);
    // Bad input, not a bug: the line above says all there is, so the host's failure log gets no stack trace.
    if (unreadable) (err as Error).stack = `${(err as Error).name}: ${(err as Error).message}`;
    if (onLastFailure && tries >= MAX_DEQUEUE_COUNT) {
      const handled = await onLastFailure(err, tries).catch((e: unknown) => {
        error(`could not end or park what the failing message was doing: ${errorMessage(e)}`);
        return false;
      });
      if (handled === true) return;
    }
    throw err;
  }
}

/**
 * For steps of a job (launch, monitor): on the last try, ends the job unless the cause
 * will pass by itself (an outage: the reconciler resumes those).
 */
export function endJobOnLastTry(jobId: () => string, step: Step) {
  return async (err: unknown): Promise<void> => {
    if (err instanceof UnreadableMessage || isTransient(err)) return;
    await abandonJob(deps(), jobId(), step, err);
  };
}

export function specSource(): SpecSource {
  const d = deps();
  const container = appStorage().blobs.getContainerClient(d.config.names.specsContainer);
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

export function messageMeta(context: InvocationContext): MessageMeta {
  const m = context.triggerMetadata ?? {};
  // The library hands metadata that looks like JSON over parsed; written back, it is the same JSON.
  const text = m.queueTrigger === undefined ? undefined : typeof m.queueTrigger === "string" ? m.queueTrigger : JSON.stringify(m.queueTrigger);
  return { id: String(m.id), insertionTime: new Date(String(m.insertionTime)), text };
}
