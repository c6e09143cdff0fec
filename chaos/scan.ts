/**
 * Searches all of a storage account — every table entity, every blob, every queue
 * message (including poison queues) — for a string. Used to prove a planted secret was
 * never stored in clear.
 */
import { TableServiceClient, TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";

export interface ScanResult {
  hits: string[];
  scanned: { entities: number; blobs: number; messages: number };
}

export async function scanStorage(connection: string, needle: string): Promise<ScanResult> {
  const insecure = { allowInsecureConnection: /DefaultEndpointsProtocol=http;/.test(connection) };
  const hits: string[] = [];
  const scanned = { entities: 0, blobs: 0, messages: 0 };
  const b64 = Buffer.from(needle).toString("base64");
  const found = (text: string) => text.includes(needle) || text.includes(b64) || Buffer.from(text, "base64").toString("utf8").includes(needle);

  for await (const t of TableServiceClient.fromConnectionString(connection, insecure).listTables()) {
    const table = TableClient.fromConnectionString(connection, t.name!, insecure);
    for await (const e of table.listEntities()) {
      scanned.entities++;
      if (found(JSON.stringify(e))) hits.push(`table ${t.name} ${e.partitionKey}/${e.rowKey}`);
    }
  }
  const blobs = BlobServiceClient.fromConnectionString(connection);
  for await (const c of blobs.listContainers()) {
    const container = blobs.getContainerClient(c.name);
    for await (const blob of container.listBlobsFlat()) {
      scanned.blobs++;
      const text = (await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8");
      if (found(text)) hits.push(`blob ${c.name}/${blob.name}`);
    }
  }
  const queues = QueueServiceClient.fromConnectionString(connection);
  for await (const q of queues.listQueues()) {
    // Peeking sees up to 32 visible messages without disturbing them; delayed messages are
    // Burst's own polls and launches, which carry ids only.
    const queue = queues.getQueueClient(q.name);
    const peeked = await queue.peekMessages({ numberOfMessages: 32 });
    for (const m of peeked.peekedMessageItems) {
      scanned.messages++;
      if (found(m.messageText)) hits.push(`queue ${q.name} ${m.messageId}`);
    }
  }
  return { hits, scanned };
}
