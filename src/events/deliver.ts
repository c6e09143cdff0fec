/**
 * Delivers one completion event to one sink, at least once. The events queue holds one
 * message per (event, sink); this step reads the job for where it goes (and the sealed
 * webhook secret, which never travels in a message), tries once, and on failure queues
 * the next try after a backoff (retryBackoff.ts). After the last try it parks the message
 * in the events poison queue as a dead letter, with the last error, where `burst poison`
 * and GET /api/poison show it and a redrive gives it a full set of tries again.
 *
 * An Event Grid topic gets it through @azure/eventgrid (eventGrid.ts), authenticated with
 * the topic's key, which is sealed with the webhook secret and never travels either.
 *
 * Webhooks get the CloudEvent in structured mode, signed like GitHub's webhooks: the
 * header `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` under the secret.
 */
import { createHmac } from "node:crypto";
import { z } from "zod";
import type { QueueServiceClient } from "@azure/storage-queue";
import { UnreadableMessage, errorMessage } from "../errors.js";
import { open, SecureValuesUnopenable } from "../secrets.js";
import type { EventMessage } from "../store/outbox.js";
import type { Deps } from "../scheduler/deps.js";
import type { JobRecord } from "../model.js";
import { retryBackoffSeconds } from "../retryBackoff.js";
import { eventSecretAad } from "./cloudEvent.js";
import { SINKS } from "./spec.js";
import { publishToEventGrid } from "./eventGrid.js";

/** Tries per event and sink: with the backoff (5 s doubling, capped at 5 min) about 10 minutes in all. */
export const DELIVERY_TRIES = 8;
/** How long a webhook has to answer one try. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliveryOptions {
  tries: number;
  /** Seconds before try `n + 1`, after try `n` failed. */
  backoffSeconds: (n: number) => number;
  timeoutMs: number;
}

const DEFAULTS: DeliveryOptions = { tries: DELIVERY_TRIES, backoffSeconds: retryBackoffSeconds, timeoutMs: WEBHOOK_TIMEOUT_MS };

const messageSchema = z.object({
  jobId: z
    .string()
    .regex(/^[a-z0-9]{1,40}(?:-[0-9]{5})?$/)
    .optional(),
  /** A pool event's pool (events/poolEvents.ts), instead of a job. */
  pool: z.string().min(1).optional(),
  sink: z.enum(SINKS),
  try: z.number().int().min(1),
  event: z.looseObject({ specversion: z.literal("1.0"), id: z.string().min(1), type: z.string().min(1), source: z.string().min(1) }),
  /** A dead letter's last error (see above); ignored on redrive. */
  lastError: z.string().optional(),
});

export function readEventMessage(body: unknown): EventMessage {
  const r = messageSchema.safeParse(body);
  if (!r.success || (r.data.jobId === undefined) === (r.data.pool === undefined))
    throw new UnreadableMessage(`not an events message: ${JSON.stringify(body)?.slice(0, 200)}`);
  const { lastError: _shown, ...msg } = r.data;
  return msg as unknown as EventMessage;
}

/** The header GitHub's webhooks sign with, for `body` as sent. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export type DeliveryResult = "delivered" | "retrying" | "dead-lettered" | "dropped";

/** Where undeliverable things go, and the queues a queue sink writes to. */
export type DeliveryDeps = Pick<Deps, "jobs" | "outbox" | "poison" | "config" | "log">;

export async function deliverEvent(
  deps: DeliveryDeps,
  queues: QueueServiceClient,
  msg: EventMessage,
  options: Partial<DeliveryOptions> = {},
): Promise<DeliveryResult> {
  const o = { ...DEFAULTS, ...options };
  const fields = { jobId: msg.jobId, pool: msg.pool, step: "events" };
  const to = await targetOf(deps, msg);
  const ev = to?.events;
  // The job was deleted (retention), or it (or the pool) no longer names this sink: nothing is left to deliver to.
  if (!to || !ev || !ev[msg.sink]) {
    deps.log.warn(`${who(msg)}: event ${msg.event.id} dropped: it no longer names a ${msg.sink} to send it to`, fields);
    return "dropped";
  }
  let failure: string;
  try {
    if (msg.sink === "webhook") failure = await postWebhook(ev.webhook!.url, to.secrets().secret, msg, o.timeoutMs);
    else if (msg.sink === "eventGrid")
      failure = await publishToEventGrid(ev.eventGrid!.endpoint, to.secrets().eventGridKey ?? "", msg.event, o.timeoutMs);
    else failure = await sendToQueue(queues, ev.queue!.name, msg);
  } catch (err) {
    // The secret cannot be opened: no later try can sign (or authenticate), and an unsigned delivery is not what was asked.
    if (!(err instanceof SecureValuesUnopenable)) throw err;
    const what = msg.sink === "eventGrid" ? "Event Grid key" : "webhook secret";
    return deadLetter(deps, msg, `the ${what} ${err.message.replace(/^its secure values/, "")}`);
  }
  if (failure === "") return "delivered";
  if (msg.try >= o.tries) return deadLetter(deps, msg, failure);
  deps.log.warn(
    `${who(msg)}: event ${msg.event.id} to its ${msg.sink}: try ${msg.try} of ${o.tries} failed (${failure}); trying again`,
    fields,
  );
  await deps.outbox.send("events", { ...msg, try: msg.try + 1 }, o.backoffSeconds(msg.try));
  return "retrying";
}

async function deadLetter(deps: DeliveryDeps, msg: EventMessage, why: string): Promise<DeliveryResult> {
  // Parked as try 1, so a redrive gives it every try again.
  await deps.poison.park("events", JSON.stringify({ ...msg, try: 1, lastError: why }));
  deps.log.error(
    `${who(msg)}: event ${msg.event.id} to its ${msg.sink} dead-lettered after ${msg.try} tries (${why}); see \`burst poison show events\``,
    { jobId: msg.jobId, pool: msg.pool, step: "events" },
  );
  return "dead-lettered";
}

function who(msg: EventMessage): string {
  return msg.pool !== undefined ? `pool ${msg.pool}` : `job ${msg.jobId}`;
}

type Sinks = { webhook?: { url: string }; queue?: { name: string }; eventGrid?: { endpoint: string } };

/** Where a message's event goes, and its secrets (opened only when a sink needs them); undefined when its job is gone. */
async function targetOf(
  deps: DeliveryDeps,
  msg: EventMessage,
): Promise<{ events?: Sinks; secrets: () => { secret?: string; eventGridKey?: string } } | undefined> {
  if (msg.pool !== undefined) {
    const pool = msg.pool;
    return { events: deps.config.pools.get(pool)?.events, secrets: () => deps.config.poolEventSecrets?.get(pool) ?? {} };
  }
  const job = (await deps.jobs.get(msg.jobId))?.value;
  return job && { events: job.spec?.events, secrets: () => openEventSecrets(deps, job) };
}

/** The job's sealed webhook secret and Event Grid key, opened (or its pool's, from app settings); none when it gave none. */
function openEventSecrets(deps: DeliveryDeps, job: JobRecord): { secret?: string; eventGridKey?: string } {
  if (job.eventsFromPool) return deps.config.poolEventSecrets?.get(job.pool) ?? {};
  return job.sealedEventSecret ? open(job.sealedEventSecret, deps.config.secrets, eventSecretAad(job.sealedFor ?? job.id)) : {};
}

/** "" when the receiver took it (any 2xx), else why not. */
async function postWebhook(url: string, secret: string | undefined, msg: EventMessage, timeoutMs: number): Promise<string> {
  const body = JSON.stringify(msg.event);
  const headers: Record<string, string> = {
    "content-type": "application/cloudevents+json; charset=utf-8",
    "user-agent": "Burst-Events",
    // The CloudEvent's id, also in the body: receivers deduplicate by it (delivery is at least once).
    "x-burst-event-id": msg.event.id,
  };
  if (secret) headers["x-hub-signature-256"] = signature(body, secret);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? "" : `the webhook answered HTTP ${res.status}`;
  } catch (err) {
    return `the webhook did not answer: ${errorMessage(err)}`;
  }
}

/** "" once queued; a failure of the queue service is thrown, for the host to retry the message. */
async function sendToQueue(queues: QueueServiceClient, name: string, msg: EventMessage): Promise<string> {
  const q = queues.getQueueClient(name);
  await q.createIfNotExists();
  // Base64 of the JSON, as the Functions host's queue trigger expects by default.
  await q.sendMessage(Buffer.from(JSON.stringify(msg.event), "utf8").toString("base64"));
  return "";
}
