/**
 * The poison queues (`<queue>-poison`), where the Functions host parks a message after
 * maxDequeueCount failed tries, and where nothing acts on it by itself. Messages there
 * expire with the queue's time to live (7 days by default), so a person must be able to
 * see them, send them back, or throw them away: this is the one place that does, for the
 * API and the CLI (`burst poison`), and the reconciler reports how deep each one is.
 *
 * A message is shown decoded when it is base64 of UTF-8 text (how every Burst producer
 * writes), and as received otherwise; it is sent back exactly as it was received.
 */
import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { StorageNames } from "../config.js";

export const BURST_QUEUES = ["jobs", "monitor", "exits", "events"] as const;
export type BurstQueue = (typeof BURST_QUEUES)[number];

export interface PoisonMessage {
  id: string;
  insertedOn: string;
  /** Tries counted in the poison queue (peeks and the host's move do not count). */
  dequeueCount: number;
  /** `base64`: `text` is the decoded message; `raw`: `text` is exactly what was received. */
  encoding: "base64" | "raw";
  text: string;
}

export interface PoisonQueues {
  /** Approximate message count of each poison queue (0 when it does not exist). */
  depths(): Promise<Record<BurstQueue, number>>;
  /** The oldest messages, up to 32 (the Queue service's peek limit). */
  peek(queue: BurstQueue, limit?: number): Promise<PoisonMessage[]>;
  /** Adds a message of Burst's own making (base64 of the JSON text). */
  park(queue: BurstQueue, json: string): Promise<void>;
  /** Sends messages back to their queue, as received: `all`, or those ids. */
  redrive(queue: BurstQueue, which: "all" | string[]): Promise<{ done: string[]; missing: string[] }>;
  /** Deletes messages: `all`, or those ids. */
  purge(queue: BurstQueue, which: "all" | string[]): Promise<{ done: string[]; missing: string[] }>;
}

function decode(text: string): Pick<PoisonMessage, "encoding" | "text"> {
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0) {
    const bytes = Buffer.from(text, "base64");
    const decoded = new TextDecoder("utf-8", { fatal: true });
    try {
      return { encoding: "base64", text: decoded.decode(bytes) };
    } catch {
      // not UTF-8: shown as received
    }
  }
  return { encoding: "raw", text };
}

/** How long a message taken for redrive or purge stays hidden while it is handled. */
const HOLD_SECONDS = 60;

export class StoragePoisonQueues implements PoisonQueues {
  constructor(private readonly service: QueueServiceClient, private readonly names: StorageNames) {}

  #source(queue: BurstQueue): QueueClient {
    const name = { jobs: this.names.jobsQueue, monitor: this.names.monitorQueue, exits: this.names.exitsQueue, events: this.names.eventsQueue }[queue];
    return this.service.getQueueClient(name);
  }

  #poison(queue: BurstQueue): QueueClient {
    return this.service.getQueueClient(`${this.#source(queue).name}-poison`);
  }

  async depths(): Promise<Record<BurstQueue, number>> {
    const out = {} as Record<BurstQueue, number>;
    await Promise.all(BURST_QUEUES.map(async (q) => {
      try {
        out[q] = (await this.#poison(q).getProperties()).approximateMessagesCount ?? 0;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        out[q] = 0;
      }
    }));
    return out;
  }

  async peek(queue: BurstQueue, limit = 32): Promise<PoisonMessage[]> {
    try {
      const r = await this.#poison(queue).peekMessages({ numberOfMessages: Math.max(1, Math.min(32, limit)) });
      return r.peekedMessageItems.map((m) => ({ id: m.messageId, insertedOn: m.insertedOn.toISOString(), dequeueCount: m.dequeueCount, ...decode(m.messageText) }));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return [];
      throw err;
    }
  }

  async park(queue: BurstQueue, json: string): Promise<void> {
    const poison = this.#poison(queue);
    await poison.createIfNotExists();
    await poison.sendMessage(Buffer.from(json, "utf8").toString("base64"));
  }

  redrive(queue: BurstQueue, which: "all" | string[]): Promise<{ done: string[]; missing: string[] }> {
    const source = this.#source(queue);
    return this.#each(queue, which, async (text) => {
      await source.createIfNotExists();
      await source.sendMessage(text);
    });
  }

  purge(queue: BurstQueue, which: "all" | string[]): Promise<{ done: string[]; missing: string[] }> {
    return this.#each(queue, which, async () => {});
  }

  /**
   * Takes messages out of the poison queue one batch at a time (hidden while handled),
   * does `act` with each chosen one and deletes it; the others are made visible again.
   * Stops when the queue has nothing more to give or every id was found.
   */
  async #each(queue: BurstQueue, which: "all" | string[], act: (text: string) => Promise<void>): Promise<{ done: string[]; missing: string[] }> {
    const poison = this.#poison(queue);
    const wanted = which === "all" ? undefined : new Set(which);
    const done: string[] = [];
    // Others taken while looking stay hidden until the scan ends (so it reaches the whole queue), then show again.
    const others: { id: string; popReceipt: string }[] = [];
    try {
      for (;;) {
        let batch;
        try {
          batch = (await poison.receiveMessages({ numberOfMessages: 32, visibilityTimeout: HOLD_SECONDS })).receivedMessageItems;
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) break;
          throw err;
        }
        if (batch.length === 0) break;
        for (const m of batch) {
          if (wanted && !wanted.has(m.messageId)) {
            others.push({ id: m.messageId, popReceipt: m.popReceipt });
            continue;
          }
          await act(m.messageText);
          await poison.deleteMessage(m.messageId, m.popReceipt);
          done.push(m.messageId);
        }
        if (wanted && done.length === wanted.size) break;
      }
    } finally {
      await Promise.all(others.map((o) => poison.updateMessage(o.id, o.popReceipt, undefined, 0).catch(() => undefined)));
    }
    return { done, missing: wanted ? [...wanted].filter((id) => !done.includes(id)) : [] };
  }
}
