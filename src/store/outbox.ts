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
import type { QueueServiceClient } from "@azure/storage-queue";
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
  send(queue: "launch", body: LaunchMessage, delaySeconds?: number): Promise<void>;
  send(queue: "monitor", body: MonitorMessage, delaySeconds?: number): Promise<void>;
  send(queue: "pump", body: PumpMessage, delaySeconds?: number): Promise<void>;
  send(queue: "events", body: EventMessage, delaySeconds?: number): Promise<void>;
}

/** Queue messages can be delayed by at most 7 days. */
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

export class QueueOutbox implements Outbox {
  readonly #created = new Map<string, Promise<unknown>>();
  constructor(private readonly service: QueueServiceClient, private readonly names: StorageNames) {}

  queueName(queue: InternalQueue): string {
    return queue === "events" ? this.names.eventsQueue : this.names.monitorQueue;
  }

  async send(queue: InternalQueue, message: object, delaySeconds = 0): Promise<void> {
    const body = queue === "launch" || queue === "pump" ? { step: queue, ...message } : message;
    const client = this.service.getQueueClient(this.queueName(queue));
    let ready = this.#created.get(client.name);
    if (!ready) {
      ready = client.createIfNotExists().catch((err) => { this.#created.delete(client.name); throw err; });
      this.#created.set(client.name, ready);
    }
    await ready;
    const text = Buffer.from(JSON.stringify(body), "utf8").toString("base64");
    await client.sendMessage(text, { visibilityTimeout: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))) });
  }
}
