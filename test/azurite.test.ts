import { inject, describe, it, expect } from "vitest";
import { QueueServiceClient } from "@azure/storage-queue";

describe("the test stack", () => {
  it("gives every test a reachable Azurite through the provided connection string", async () => {
    const service = QueueServiceClient.fromConnectionString(inject("storageConnectionString"));
    const queue = service.getQueueClient(`probe-${Date.now()}`);
    await queue.create();
    await queue.sendMessage("hello");
    const got = await queue.receiveMessages();
    expect(got.receivedMessageItems[0]?.messageText).toBe("hello");
    await queue.delete();
  });
});
