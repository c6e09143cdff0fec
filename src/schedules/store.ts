/**
 * Schedule records in their own table (`<prefix>Schedules`): one entity per schedule,
 * partition "schedule", row key its name, the record as JSON. Every change is a
 * read-modify-write guarded by the entity's ETag, which is what makes a tick fire once
 * however many instances look at it at the same moment.
 */
import type { TableClient } from "@azure/data-tables";
import { ensureTable, isConflict, isNotFound, joinDoc, splitDoc } from "../store/tables.js";
import type { Versioned } from "../store/jobStore.js";
import type { ScheduleRecord } from "./model.js";

export type { Versioned };

const PARTITION = "schedule";

export class ScheduleStore {
  constructor(private readonly table: TableClient) {}

  async get(name: string): Promise<Versioned<ScheduleRecord> | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(PARTITION, name);
      return { value: JSON.parse(joinDoc(e)) as ScheduleRecord, etag: e.etag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Every schedule, by name. There are few (each is a standing definition), so one query reads them all. */
  async list(): Promise<Versioned<ScheduleRecord>[]> {
    await ensureTable(this.table);
    const out: Versioned<ScheduleRecord>[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${PARTITION}'` },
    })) {
      out.push({ value: JSON.parse(joinDoc(e)) as ScheduleRecord, etag: e.etag });
    }
    return out.sort((a, b) => a.value.name.localeCompare(b.value.name));
  }

  /** False when a schedule of that name exists. */
  async create(record: ScheduleRecord): Promise<boolean> {
    await ensureTable(this.table);
    try {
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: record.name, ...splitDoc(JSON.stringify(record)) });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** The new ETag; undefined when the record changed since `etag` was read (someone else wrote first). */
  async replace(record: ScheduleRecord, etag: string): Promise<string | undefined> {
    try {
      const r = await this.table.updateEntity(
        { partitionKey: PARTITION, rowKey: record.name, ...splitDoc(JSON.stringify(record)) },
        "Replace",
        { etag },
      );
      // Never "*" in its place: the next write must stay conditional.
      if (!r.etag) throw new Error("Table storage answered an update without an ETag");
      return r.etag;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** False when it was not there (or changed since `etag`). */
  async delete(name: string, etag?: string): Promise<boolean> {
    await ensureTable(this.table);
    try {
      await this.table.deleteEntity(PARTITION, name, etag ? { etag } : {});
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
  }
}
