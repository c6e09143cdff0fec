/**
 * Completion events through the local Functions host: the finish step queues the event,
 * and the deliverEvents function (functions/deliverEvents.ts) posts it, signed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { startStack, type Stack } from "../support/harness.js";

describe("completion events on the local host", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ pools: { default: { maxConcurrency: 2, resourceGroup: `rg-events-host-${Date.now()}` } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("has a webhook on a free port receive job.ended with a valid signature", async () => {
    const secret = "host-test-webhook-secret";
    let received!: (r: { body: string; headers: IncomingHttpHeaders }) => void;
    const first = new Promise<{ body: string; headers: IncomingHttpHeaders }>((r) => (received = r));
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        res.writeHead(200).end();
        received({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
      const id = await stack.enqueue({
        image: "alpine",
        command: ["sh", "-c", "exit 4"],
        timeoutSeconds: 60,
        events: { types: ["job.ended"], webhook: { url, secret } },
      });
      const job = await stack.waitFor(id);
      const { body, headers } = await first;
      expect(headers["x-hub-signature-256"]).toBe(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
      expect(JSON.parse(body)).toMatchObject({
        specversion: "1.0",
        type: "com.burst.job.ended",
        data: { jobId: id, state: "Failed", exitCode: 4, costUsd: job.costUsd },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
