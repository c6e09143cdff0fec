/**
 * A local Event Grid topic (CloudEvents 1.0 input schema), shaped like the service's
 * publish API, for tests: Event Grid itself cannot run here. What it checks, and where
 * that is documented:
 * - `POST <topic endpoint>` (…/api/events) with `?api-version=2018-01-01`, the key in the
 *   `aeg-sas-key` header — Microsoft's EventGridPublisherClient reference
 *   (https://learn.microsoft.com/javascript/api/@azure/eventgrid/eventgridpublisherclient,
 *   endpoint "https://eg-topic.westus2-1.eventgrid.azure.net/api/events") and "Publish
 *   Cloud Event Events" in the Event Grid data-plane REST reference
 *   (https://learn.microsoft.com/rest/api/eventgrid/dataplane/publish-cloud-event-events);
 * - content type `application/cloudevents-batch+json; charset=utf-8`, a JSON array of
 *   CloudEvents 1.0 with specversion, id, source and type (CloudEvents JSON batch format;
 *   https://learn.microsoft.com/azure/event-grid/cloud-event-schema);
 * - 200 with an empty body when taken, 401 for a missing or wrong key, 400 for a body that
 *   is not a batch of CloudEvents, 404 for another path (the status codes listed for the
 *   publish operation).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface EventGridTopic {
  /** The topic endpoint to give Burst: http://127.0.0.1:<port>/api/events. */
  endpoint: string;
  /** Every CloudEvent the topic took, in order. */
  events: Record<string, unknown>[];
  /** Every request's status, in order (refused ones included). */
  statuses: number[];
  close(): Promise<void>;
}

const REQUIRED = ["specversion", "id", "source", "type"] as const;

export async function startEventGridTopic(key: string): Promise<EventGridTopic> {
  const events: Record<string, unknown>[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = (status: number, code?: string, message?: string) => {
        statuses.push(status);
        if (!code) return void res.writeHead(status).end();
        res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: { code, message } }));
      };
      const url = new URL(req.url ?? "/", "http://localhost");
      if (req.method !== "POST" || url.pathname !== "/api/events") return answer(404, "NotFound", "no such topic operation");
      if (url.searchParams.get("api-version") !== "2018-01-01") return answer(400, "BadRequest", "api-version 2018-01-01 is required");
      if (req.headers["aeg-sas-key"] !== key) return answer(401, "Unauthorized", "the request authorization key is not authorized");
      if (!String(req.headers["content-type"]).startsWith("application/cloudevents-batch+json"))
        return answer(400, "BadRequest", "content-type must be application/cloudevents-batch+json for a CloudEvents topic");
      let batch: unknown;
      try {
        batch = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return answer(400, "BadRequest", "the body is not JSON");
      }
      const ok =
        Array.isArray(batch) &&
        batch.every(
          (e) => e && typeof e === "object" && e.specversion === "1.0" && REQUIRED.every((f) => typeof e[f] === "string" && e[f]),
        );
      if (!ok) return answer(400, "BadRequest", "the body must be an array of CloudEvents 1.0 with specversion, id, source and type");
      events.push(...(batch as Record<string, unknown>[]));
      answer(200);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`,
    events,
    statuses,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
