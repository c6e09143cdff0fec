/** Small helpers over @azure/data-tables shared by the stores. */
import { TableClient, type TableEntityResult } from "@azure/data-tables";

export function tableClient(connection: string, table: string): TableClient {
  // Azurite speaks plain http; the SDK refuses that unless told it is intended.
  return TableClient.fromConnectionString(connection, table, { allowInsecureConnection: /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true/i.test(connection) });
}

export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** The write lost a race (ETag no longer current). */
export function isConflict(err: unknown): boolean {
  const s = statusOf(err);
  return s === 412 || s === 409;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/**
 * Table string properties hold at most 64 KiB (32 K UTF-16 units), so longer JSON is
 * split; and an entity holds at most 1 MiB, strings counted as UTF-16 (two bytes a
 * character), so a record stays under 480,000 characters, room left for its columns.
 */
const CHUNK = 30_000;
export const MAX_DOC_CHARS = 480_000;

/** A record that can never be stored at this size: a retry cannot help. */
export class RecordTooLarge extends Error {
  override name = "RecordTooLarge";
}

export function splitDoc(json: string): Record<string, string> {
  if (json.length > MAX_DOC_CHARS) throw new RecordTooLarge(`the record is ${json.length} characters; Table storage holds at most ${MAX_DOC_CHARS}`);
  const out: Record<string, string> = {};
  for (let i = 0, n = 0; i < json.length || n === 0; i += CHUNK, n++) out[`doc${n}`] = json.slice(i, i + CHUNK);
  return out;
}

export function joinDoc(entity: TableEntityResult<Record<string, unknown>>): string {
  let out = "";
  for (let n = 0; typeof entity[`doc${n}`] === "string"; n++) out += entity[`doc${n}`] as string;
  return out;
}

/**
 * A string property that may outgrow one Table property: `name`, then `name1`, `name2`, …
 * of CHUNK characters each, in the same entity, so one ETag still guards all of it. Written
 * with Replace, an entity drops the parts a shorter value no longer needs. A value that
 * fits stays one property under its old name.
 */
export function spreadString(name: string, value: string): Record<string, string> {
  if (value.length > MAX_DOC_CHARS) throw new RecordTooLarge(`${name} is ${value.length} characters; Table storage holds at most ${MAX_DOC_CHARS}`);
  const out: Record<string, string> = { [name]: value.slice(0, CHUNK) };
  for (let i = 1; i * CHUNK < value.length; i++) out[`${name}${i}`] = value.slice(i * CHUNK, (i + 1) * CHUNK);
  return out;
}

/** The string spreadString stored; undefined when the entity has no `name`. */
export function gatherString(entity: Record<string, unknown>, name: string): string | undefined {
  if (typeof entity[name] !== "string") return undefined;
  let out = entity[name] as string;
  for (let i = 1; typeof entity[`${name}${i}`] === "string"; i++) out += entity[`${name}${i}`] as string;
  return out;
}

/** Creates the table once per client; a concurrent creator is fine. */
const created = new WeakMap<TableClient, Promise<void>>();
export function ensureTable(client: TableClient): Promise<void> {
  let p = created.get(client);
  if (!p) {
    p = client.createTable().catch((err) => { if (statusOf(err) !== 409) { created.delete(client); throw err; } });
    created.set(client, p);
  }
  return p;
}

export function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Runs an optimistic read-modify-write until it lands: `attempt` reads, decides and writes
 * conditionally, and answers `{done: false}` when it lost a race (then it runs again on
 * fresh data, after a short randomised pause that grows with each loss).
 */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<{ done: true; value: T } | { done: false }>, tries = 30): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const r = await attempt();
    if (r.done) return r.value;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 15 * (i + 1)));
  }
  throw new WriteContention(`${what}: still losing to concurrent writers after ${tries} tries`);
}

/** A write kept losing to concurrent writers; the step fails and is retried as a whole. */
export class WriteContention extends Error {
  override name = "WriteContention";
}
