/** Between the Functions HTTP trigger and the webhook logic: raw body bytes in, JSON out. */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { handleWebhook } from "./webhook.js";
import { APP_MAX_REQUEST_BODY_BYTES } from "../appNames.js";
import { processWebhookEnv } from "./composition.js";

export async function serveWebhook(request: HttpRequest): Promise<HttpResponseInit> {
  // GitHub never sends more than 25 MiB; a host allowing more must not make us read it.
  if (Number(request.headers.get("content-length") ?? 0) > APP_MAX_REQUEST_BODY_BYTES) {
    return { status: 413, jsonBody: { error: `the payload is larger than ${APP_MAX_REQUEST_BODY_BYTES} bytes, GitHub's maximum` } };
  }
  // The raw bytes, not request.json(): the signature covers exactly what was sent.
  const body = new Uint8Array(await request.arrayBuffer());
  const res = await handleWebhook(processWebhookEnv, { header: (name) => request.headers.get(name), body });
  return { status: res.status, jsonBody: res.body };
}
