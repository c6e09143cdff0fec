/**
 * Burst's own queue messages (launch, monitor, pump, events), written with the encoding the
 * Functions host expects (base64, host.json messageEncoding) and an optional delay —
 * delayed messages are how Burst waits without an invocation outliving one step.
 *
 * Launches and pool wake-ups travel on the monitor queue beside the polls, tagged with
 * their `step` (a poll carries none): the Functions host polls every queue trigger at
 * host.json's maxPollingInterval when it is idle, so each queue costs the deployment
 * about four Storage transactions a second and host CPU to match, and these two steps are
 * rare next to polls. Events keep their own queue: a slow webhook must not hold polls up.
 */
import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { StorageNames } from "../config.js";

export type InternalQueue = "launch" | "monitor" | "pump" | "events";

export interface LaunchMessage { jobId: string }
/**
 * `fresh`: the poll must read the job's record from storage. A chain's own poll may start
 * from the version this process remembers (monitor.ts); a poll sent because something else
 * changed the record (a cancel, the reconciler) must see that change.
 */
export interface MonitorMessage { jobId: string; attempt: number; seq: number; fresh?: true }
export interface PumpMessage { pool: string }
/** One completion event for one sink, and the delivery try it is (events/deliver.ts). */
/** One event for one sink: a job's (its `events` say where), or a pool's (BURST_POOLS `events` say where). */
export type EventMessage = ({ jobId: string; pool?: undefined } | { pool: string; jobId?: undefined }) & {
  sink: import("../events/spec.js").Sink;
  try: number;
  event: import("../events/cloudEvent.js").CloudEvent;
};

export interface Outbox {
  send(queue: "launch", body: LaunchMessage, delaySeconds?: number, options?: { alone?: boolean }): Promise<void>;
  /** `alone`: as a message of its own, never travelling with other polls (see QueueOutbox's #coalesce). */
  send(queue: "monitor", body: MonitorMessage, delaySeconds?: number, options?: { alone?: boolean }): Promise<void>;
  send(queue: "pump", body: PumpMessage, delaySeconds?: number): Promise<void>;
  send(queue: "events", body: EventMessage, delaySeconds?: number): Promise<void>;
}

/** Queue messages can be delayed by at most 7 days. */
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

/** How long a poll (or launch) waits for others due in the same second before its message goes (see #coalesce). */
export const POLL_COALESCE_MS = 25;
/**
 * The most polls or launches one message carries. Its polls run at once in one invocation,
 * on the one thread that also takes exit reports and submissions: at 64 a message, the
 * benchmark's exit-report pickup p99 rose from 0.27 s to 0.54 s; at 16 the bursts are those of
 * the host's own batch of 16 single-poll messages.
 */
export const MAX_POLLS_PER_MESSAGE = 16;

type Coalesced = { kind: "poll"; body: MonitorMessage } | { kind: "launch"; body: LaunchMessage };

interface Batch {
  items: Coalesced[];
  waiters: { resolve(): void; reject(err: unknown): void }[];
}

export class QueueOutbox implements Outbox {
  readonly #created = new Map<string, Promise<unknown>>();
  readonly #clients = new Map<string, QueueClient>();
  /** Polls and launches waiting to go, by kind and the whole second they are delayed to. */
  readonly #batches = new Map<string, Batch>();

  constructor(
    private readonly service: QueueServiceClient,
    private readonly names: StorageNames,
    /** 0: every poll and launch is its own message. */
    private readonly coalesceMs = POLL_COALESCE_MS,
  ) {}

  queueName(queue: InternalQueue): string {
    return queue === "events" ? this.names.eventsQueue : this.names.monitorQueue;
  }

  async send(queue: InternalQueue, message: object, delaySeconds = 0, options: { alone?: boolean } = {}): Promise<void> {
    const seconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    if (this.coalesceMs > 0 && !options.alone) {
      if (queue === "monitor") return this.#coalesce({ kind: "poll", body: message as MonitorMessage }, seconds);
      if (queue === "launch") return this.#coalesce({ kind: "launch", body: message as LaunchMessage }, seconds);
    }
    await this.#put(queue, queue === "launch" || queue === "pump" ? { step: queue, ...message } : message, seconds);
  }

  /**
   * Polls due in the same whole second (a queue message's delay is whole seconds anyway)
   * that are sent within a few milliseconds of each other travel as one message,
   * `{step: "polls", polls: […]}`, and so do launches (`{step: "launches", jobIds: […]}`:
   * the backup launch messages of the jobs one pump admits). A poll is most of a running
   * job's queue traffic (a send, a receive and a delete, each a billed transaction, and an
   * invocation), and the polls of one batch end together and are sent together, so a full
   * pool's polls soon travel in a few messages. Each send resolves once its message is on
   * the queue; a batch of one is sent as the single message it always was.
   */
  #coalesce(item: Coalesced, seconds: number): Promise<void> {
    const key = `${item.kind}:${seconds}`;
    return new Promise<void>((resolve, reject) => {
      let batch = this.#batches.get(key);
      if (!batch) {
        const b: Batch = { items: [], waiters: [] };
        this.#batches.set(key, (batch = b));
        setTimeout(() => void this.#flush(key, b, seconds), this.coalesceMs);
      }
      batch.items.push(item);
      batch.waiters.push({ resolve, reject });
      if (batch.items.length >= MAX_POLLS_PER_MESSAGE) void this.#flush(key, batch, seconds);
    });
  }

  async #flush(key: string, batch: Batch, seconds: number): Promise<void> {
    if (this.#batches.get(key) !== batch) return;
    this.#batches.delete(key);
    const [first] = batch.items;
    const body =
      first!.kind === "poll"
        ? batch.items.length === 1 ? first!.body : { step: "polls", polls: batch.items.map((i) => i.body) }
        : batch.items.length === 1 ? { step: "launch", ...first!.body } : { step: "launches", jobIds: batch.items.map((i) => (i.body as LaunchMessage).jobId) };
    try {
      await this.#put("monitor", body, seconds);
      for (const w of batch.waiters) w.resolve();
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    }
  }

  async #put(queue: InternalQueue, body: object, seconds: number): Promise<void> {
    const name = this.queueName(queue);
    let client = this.#clients.get(name);
    if (!client) this.#clients.set(name, (client = this.service.getQueueClient(name)));
    let ready = this.#created.get(name);
    if (!ready) {
      const c = client;
      ready = c.createIfNotExists().catch((err) => { this.#created.delete(name); throw err; });
      this.#created.set(name, ready);
    }
    await ready;
    const text = Buffer.from(JSON.stringify(body), "utf8").toString("base64");
    await client.sendMessage(text, { visibilityTimeout: seconds });
  }
}
