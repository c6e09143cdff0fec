/**
 * The Event Grid sink: a CloudEvent published to a topic (CloudEvents 1.0 input schema)
 * through @azure/eventgrid, authenticated by the topic's access key (the SDK sends it as
 * `aeg-sas-key`). One call is one try: the SDK's own retries are off, because deliver.ts
 * retries with its backoff and dead-letters after the last try, as for the other sinks.
 */
import { AzureKeyCredential, EventGridPublisherClient } from "@azure/eventgrid";
import { errorMessage } from "../errors.js";
import type { CloudEvent } from "./cloudEvent.js";

/** "" when the topic took the event, else why not (never the key). */
export async function publishToEventGrid(endpoint: string, key: string, event: CloudEvent, timeoutMs: number): Promise<string> {
  const client = new EventGridPublisherClient(endpoint, "CloudEvent", new AzureKeyCredential(key), {
    retryOptions: { maxRetries: 0 },
    // The spec allows plain http only for this machine (a local topic under `npm start` or a test); Azure's topics are https.
    allowInsecureConnection: new URL(endpoint).protocol === "http:",
  });
  const { specversion: _v, id, type, source, subject, time, datacontenttype, data } = event;
  try {
    // The id, time and subject are the event's own, so a repeat is the same event to a subscriber that deduplicates.
    await client.send([{ id, type, source, subject, time: new Date(time), datacontenttype, data }], {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    return "";
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    return status ? `the Event Grid topic answered HTTP ${status}` : `the Event Grid topic did not answer: ${errorMessage(err)}`;
  }
}
