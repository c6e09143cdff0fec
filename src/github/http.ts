/** Between the Functions HTTP trigger and the webhook logic: raw body bytes in, JSON out. */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { handleWebhook } from "./webhook.js";
import { processWebhookEnv } from "./runtime.js";

export async function serveWebhook(request: HttpRequest): Promise<HttpResponseInit> {
  // The raw bytes, not request.json(): the signature covers exactly what was sent.
  const body = new Uint8Array(await request.arrayBuffer());
  const res = await handleWebhook(processWebhookEnv, { header: (name) => request.headers.get(name), body });
  return { status: res.status, jsonBody: res.body };
}
