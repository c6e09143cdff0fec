/**
 * The outbox against real Queue storage (Azurite): polls due in the same second that are
 * sent together travel as one message, and what must go alone does.
 */
import { randomBytes } from "node:crypto";
import { QueueServiceClient } from "@azure/storage-queue";
import { describe, expect, inject, it } from "vitest";
import { QueueOutbox } from "../../src/store/outbox.js";
import { storageNames } from "../../src/config.js";

describe("the outbox", () => {
  it("sends polls, and launches, due in the same second as one message each, and keeps other seconds, single polls and lone polls apart", async () => {
    const service = QueueServiceClient.fromConnectionString(inject("storageConnectionString"));
    const names = storageNames(`o${randomBytes(5).toString("hex")}`);
    const outbox = new QueueOutbox(service, names);
    const polls = Array.from({ length: 5 }, (_, i) => ({ jobId: `j${i}`, attempt: 1, seq: i }));
    await Promise.all([
      outbox.send("monitor", polls[0]!, 0),
      outbox.send("monitor", polls[1]!, 0),
      outbox.send("monitor", polls[2]!, 0.2),
      outbox.send("monitor", polls[3]!, 30),
      outbox.send("monitor", polls[4]!, 0, { alone: true }),
      outbox.send("launch", { jobId: "ja" }, 0),
      outbox.send("launch", { jobId: "jb" }, 0),
      outbox.send("pump", { pool: "default" }, 0),
    ]);
    const queue = service.getQueueClient(names.monitorQueue);
    const got = (await queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((m) =>
      JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")),
    );
    // Visible now: the two polls due now together, the lone one apart, the two launches together, the pump.
    // The poll rounded up to 1 s and the 30 s one are still hidden.
    expect(got).toHaveLength(4);
    expect(got).toContainEqual({ step: "polls", polls: [polls[0], polls[1]] });
    expect(got).toContainEqual(polls[4]);
    expect(got).toContainEqual({ step: "launches", jobIds: ["ja", "jb"] });
    expect(got).toContainEqual({ step: "pump", pool: "default" });
    expect((await queue.getProperties()).approximateMessagesCount).toBe(6);
    await queue.delete();
  });
});
