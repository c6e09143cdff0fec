/**
 * A queue trigger listener with the Functions host's semantics (Azure WebJobs
 * QueueListener / QueueProcessor):
 * - fetches up to batchSize messages and fetches again once the number still running
 *   drops to newBatchThreshold, so at most batchSize + newBatchThreshold run at once;
 * - when a fetch comes back empty, waits with a randomized exponential backoff from
 *   100 ms up to maxPollingInterval, reset as soon as messages are found; `wake()`
 *   (called when this host writes to the queue) polls at once;
 * - holds each message under a lease (visibility) that is renewed while it runs;
 * - deletes it on success; on failure makes it visible again after visibilityTimeout,
 *   or, at maxDequeueCount, copies it to `<queue>-poison` and deletes it;
 * - a message that cannot be decoded goes straight to the poison queue.
 */
import type { QueueClient, DequeuedMessageItem } from "@azure/storage-queue";
import type { QueuesOptions } from "./hostConfig.js";
import type { RpcTypedData } from "./coreTypes.js";

export const MIN_POLLING_INTERVAL_MS = 100;

export interface QueueListenerOptions {
  queue: QueueClient;
  poison: QueueClient;
  options: QueuesOptions;
  /** How long a fetched message stays invisible before renewal; the real host uses 10 minutes. */
  leaseMs: number;
  invoke(body: string, metadata: Record<string, RpcTypedData>): Promise<void>;
  log(level: "information" | "warning" | "error", message: string): void;
}

/** The next polling delay: doubles with ±20 % jitter, capped at max (pure, for tests). */
export function nextPollingDelay(current: number, max: number, random: () => number = Math.random): number {
  const base = Math.min(max, Math.max(MIN_POLLING_INTERVAL_MS, current * 2));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.min(max, Math.max(MIN_POLLING_INTERVAL_MS, Math.round(jittered)));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a message body per messageEncoding; undefined when it is not valid base64/UTF-8. */
export function decodeMessage(text: string, encoding: QueuesOptions["messageEncoding"]): string | undefined {
  if (encoding === "none") return text;
  if (!BASE64.test(text)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(text, "base64"));
  } catch {
    return undefined;
  }
}

export function encodeMessage(text: string, encoding: QueuesOptions["messageEncoding"]): string {
  return encoding === "none" ? text : Buffer.from(text, "utf8").toString("base64");
}

function triggerMetadata(m: DequeuedMessageItem, body: string): Record<string, RpcTypedData> {
  const date = (d: Date) => ({ json: JSON.stringify(d.toISOString()) });
  return {
    DequeueCount: { int: m.dequeueCount },
    Id: { string: m.messageId },
    InsertionTime: date(m.insertedOn),
    ExpirationTime: date(m.expiresOn),
    NextVisibleTime: date(m.nextVisibleOn),
    PopReceipt: { string: m.popReceipt },
    QueueTrigger: { string: body },
  };
}

export class QueueListener {
  #inFlight = 0;
  #stopped = false;
  #wakeUp?: () => void;
  #loop?: Promise<void>;
  #idle = new Set<() => void>();

  constructor(private readonly o: QueueListenerOptions) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Polls at once instead of finishing the current backoff wait. */
  wake(): void {
    this.#wakeUp?.();
  }

  /** Stops fetching and waits for the messages already running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await this.#loop;
    while (this.#inFlight > 0) await new Promise<void>((r) => this.#idle.add(r));
  }

  async #run(): Promise<void> {
    const { queue, options } = this.o;
    let delay = MIN_POLLING_INTERVAL_MS;
    await queue.createIfNotExists().catch(() => undefined);
    while (!this.#stopped) {
      if (this.#inFlight > options.newBatchThreshold) {
        await new Promise<void>((r) => { this.#idle.add(r); this.#wakeUp = r; });
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        const res = await queue.receiveMessages({
          numberOfMessages: options.batchSize,
          visibilityTimeout: Math.ceil(this.o.leaseMs / 1000),
        });
        messages = res.receivedMessageItems;
      } catch (err) {
        this.o.log("warning", `queue ${queue.name}: receive failed: ${(err as Error).message}`);
        if ((err as { statusCode?: number }).statusCode === 404) await queue.createIfNotExists().catch(() => undefined);
      }
      if (messages.length > 0) {
        delay = MIN_POLLING_INTERVAL_MS;
        for (const m of messages) void this.#process(m);
        continue;
      }
      delay = nextPollingDelay(delay, options.maxPollingIntervalMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wakeUp = () => { clearTimeout(timer); resolve(); };
      });
      this.#wakeUp = undefined;
    }
  }

  async #process(m: DequeuedMessageItem): Promise<void> {
    const { queue, options } = this.o;
    this.#inFlight++;
    let popReceipt = m.popReceipt;
    // Renewals and the final delete/release are chained so they never race on the pop receipt.
    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(f: () => Promise<T>): Promise<T> => {
      const next = chain.then(f);
      chain = next.catch(() => undefined);
      return next;
    };
    const renewal = setInterval(() => {
      void serial(async () => {
        const r = await queue.updateMessage(m.messageId, popReceipt, undefined, Math.ceil(this.o.leaseMs / 1000));
        popReceipt = r.popReceipt!;
      }).catch((err) => this.o.log("warning", `queue ${queue.name}: lease renewal for ${m.messageId} failed: ${(err as Error).message}`));
    }, Math.max(500, this.o.leaseMs / 2));
    try {
      const body = decodeMessage(m.messageText, options.messageEncoding);
      if (body === undefined) {
        this.o.log("error", `queue ${queue.name}: message ${m.messageId} is not valid ${options.messageEncoding}; moving it to ${this.o.poison.name}`);
        await serial(() => this.#toPoison(m, popReceipt));
        return;
      }
      if (m.dequeueCount > options.maxDequeueCount) {
        // A previous host died while running it; it has had its tries.
        await serial(() => this.#toPoison(m, popReceipt));
        return;
      }
      let failed: unknown;
      try {
        await this.o.invoke(body, triggerMetadata(m, body));
      } catch (err) {
        failed = err ?? new Error("invocation failed");
      }
      if (failed === undefined) {
        await serial(() => queue.deleteMessage(m.messageId, popReceipt));
      } else if (m.dequeueCount >= options.maxDequeueCount) {
        this.o.log("error", `queue ${queue.name}: message ${m.messageId} failed ${m.dequeueCount} times; moving it to ${this.o.poison.name}`);
        await serial(() => this.#toPoison(m, popReceipt));
      } else {
        await serial(() => queue.updateMessage(m.messageId, popReceipt, undefined, Math.ceil(options.visibilityTimeoutMs / 1000)));
      }
    } catch (err) {
      // Storage trouble while settling: the lease expires and the message comes back.
      this.o.log("warning", `queue ${queue.name}: could not settle message ${m.messageId}: ${(err as Error).message}`);
    } finally {
      clearInterval(renewal);
      this.#inFlight--;
      for (const r of this.#idle) r();
      this.#idle.clear();
    }
  }

  async #toPoison(m: DequeuedMessageItem, popReceipt: string): Promise<void> {
    await this.o.poison.createIfNotExists();
    await this.o.poison.sendMessage(m.messageText);
    await this.o.queue.deleteMessage(m.messageId, popReceipt);
  }
}
