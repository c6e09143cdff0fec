/**
 * What a job asks to be told about itself (`events` in the job spec): which event types,
 * and where they go. The webhook's secret and the Event Grid topic's key are sealed at submission like secureEnv
 * (secrets.ts) and dropped from the stored spec (see `redactEvents`), so it is never kept,
 * logged or shown in clear.
 */
import { z } from "zod";

export const EVENT_TYPES = ["job.ended", "attempt.failed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** Events about a pool rather than one job: only a pool's own `events` (BURST_POOLS) may ask for them, and only by name. */
export const POOL_EVENT_TYPES = ["budget.threshold", "pool.blocked"] as const;
export type PoolEventType = (typeof POOL_EVENT_TYPES)[number];
const ALL_TYPES = [...EVENT_TYPES, ...POOL_EVENT_TYPES] as const;

/** A local receiver (tests, `npm start`) may use plain http; anything else must be https, since the body says what ran and what it cost. */
const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])$/;

const webhookUrl = z
  .string({ error: "must be a URL string" })
  .max(2048, { error: "must be at most 2048 characters" })
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === "https:" || (u.protocol === "http:" && LOCAL_HOST.test(u.hostname));
      } catch {
        return false;
      }
    },
    { error: "must be an https URL (http only for localhost)" },
  );

function typeList<T extends readonly [string, ...string[]]>(types: T) {
  return z
    .array(z.enum(types, { error: `must be one of ${types.map((t) => JSON.stringify(t)).join(", ")}` }), {
      error: "must be a list of event types",
    })
    .min(1, { error: "must name at least one event type" });
}

export const eventsSchema = z
  .strictObject(
    {
      types: typeList(EVENT_TYPES).default([...EVENT_TYPES]),
      webhook: z
        .strictObject(
          {
            url: webhookUrl,
            secret: z
              .string({ error: "must be a string" })
              .min(16, { error: "must be at least 16 characters" })
              .max(256, { error: "must be at most 256 characters" })
              .optional(),
          },
          { error: 'must be an object like { url: "https://…", secret: "…" }' },
        )
        .optional(),
      queue: z
        .strictObject(
          {
            // Storage queue names: 3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit.
            name: z.string({ error: "must be a string" }).regex(/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/, {
              error: "must be a Storage queue name: 3-63 lowercase letters, digits and single dashes",
            }),
          },
          { error: 'must be an object like { name: "my-events" }' },
        )
        .optional(),
      eventGrid: z
        .strictObject(
          {
            // A topic's endpoint, such as https://<topic>.<region>-1.eventgrid.azure.net/api/events, CloudEvents schema.
            endpoint: webhookUrl,
            // The topic's access key, sealed at submission like the webhook secret.
            key: z
              .string({ error: "must be a string" })
              .min(1, { error: "must not be empty" })
              .max(256, { error: "must be at most 256 characters" }),
          },
          { error: 'must be an object like { endpoint: "https://…/api/events", key: "…" }' },
        )
        .optional(),
    },
    { error: 'must be an object like { types: ["job.ended"], webhook: { url } }' },
  )
  .refine((e) => e.webhook || e.queue || e.eventGrid, { error: "must name a sink: webhook, queue or eventGrid" });

/** An app setting's name, as a pool's events name the setting that holds a secret (never the secret itself). */
const settingName = z.string({ error: "must be an app setting name" }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, {
  error: "must be an app setting name: letters, digits and underscores",
});

/**
 * A pool's default `events` (BURST_POOLS), for its jobs that give none. The same shape as a
 * job's, except that the webhook secret and the Event Grid key are not in it: the pool
 * names the app settings holding them (`secretSetting`, `keySetting`), read at startup
 * into BurstConfig.poolEventSecrets, so they are never in the pool JSON, a job record or a message.
 */
export const poolEventsSchema = z
  .strictObject(
    {
      types: typeList(ALL_TYPES).default([...EVENT_TYPES]),
      webhook: z.strictObject({ url: webhookUrl, secretSetting: settingName.optional() }).optional(),
      queue: eventsSchema.shape.queue,
      eventGrid: z.strictObject({ endpoint: webhookUrl, keySetting: settingName }).optional(),
    },
    { error: 'must be an object like { webhook: { url, secretSetting: "<app setting name>" } }' },
  )
  .refine((e) => e.webhook || e.queue || e.eventGrid, { error: "must name a sink: webhook, queue or eventGrid" });

export type PoolEvents = z.output<typeof poolEventsSchema>;

/** A pool's default events as a job's stored (redacted) events spec: the sinks, no secrets; none when it names no job event type. */
export function poolEventsSpec(p: PoolEvents): EventsSpec | undefined {
  const types = p.types.filter((t): t is EventType => (EVENT_TYPES as readonly string[]).includes(t));
  if (types.length === 0) return undefined;
  return {
    types,
    webhook: p.webhook && { url: p.webhook.url },
    queue: p.queue,
    eventGrid: p.eventGrid && ({ endpoint: p.eventGrid.endpoint } as { endpoint: string; key: string }),
  };
}

/** The pool's secrets from the app settings it names; a named setting that is unset is an error. */
export function readPoolEventSecrets(p: PoolEvents, env: NodeJS.ProcessEnv, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const read = (field: string, setting: string | undefined, as: string) => {
    if (!setting) return;
    const value = env[setting];
    if (!value) throw new Error(`${where}.${field} names the app setting ${setting}, which is not set`);
    out[as] = value;
  };
  read("webhook.secretSetting", p.webhook?.secretSetting, "secret");
  read("eventGrid.keySetting", p.eventGrid?.keySetting, "eventGridKey");
  return out;
}

/** The sinks an events spec names, in the order their messages are queued. */
export const SINKS = ["webhook", "queue", "eventGrid"] as const;
export type Sink = (typeof SINKS)[number];

export type EventsSpec = z.output<typeof eventsSchema>;

/** The events spec as stored: the webhook secret and the Event Grid key dropped (the record holds them sealed, as sealedEventSecret). */
export function redactEvents(events: EventsSpec): EventsSpec {
  let out = events;
  if (out.webhook?.secret) {
    const { secret: _sealed, ...webhook } = out.webhook;
    out = { ...out, webhook };
  }
  if (out.eventGrid?.key !== undefined) {
    const { key: _sealed, ...eventGrid } = out.eventGrid;
    out = { ...out, eventGrid: eventGrid as { endpoint: string; key: string } };
  }
  return out;
}

/** The secrets an events spec carries, by name in the sealed bundle: `secret` (webhook) and `eventGridKey`. */
export function eventSecrets(events: EventsSpec | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (events?.webhook?.secret) out.secret = events.webhook.secret;
  if (events?.eventGrid?.key) out.eventGridKey = events.eventGrid.key;
  return out;
}
