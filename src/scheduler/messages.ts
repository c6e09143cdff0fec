/** Shapes of Burst's internal queue messages, checked on receipt; a bad one is unreadable. */
import { z } from "zod";
import { UnreadableMessage } from "../errors.js";
import type { LaunchMessage, MonitorMessage, PumpMessage } from "../store/outbox.js";

// Array children add "-" and a five-digit index to their parent's id.
const id = z.string().regex(/^[a-z0-9]{1,40}(?:-[0-9]{5})?$/);
const schemas = {
  launch: z.strictObject({ jobId: id }),
  monitor: z.strictObject({ jobId: id, attempt: z.number().int().min(1), seq: z.number().int().min(0) }),
  pump: z.strictObject({ pool: z.string().regex(/^[a-z0-9-]{1,32}$/) }),
};

export function readInternal(kind: "launch", body: unknown): LaunchMessage;
export function readInternal(kind: "monitor", body: unknown): MonitorMessage;
export function readInternal(kind: "pump", body: unknown): PumpMessage;
export function readInternal(kind: keyof typeof schemas, body: unknown): unknown {
  const r = schemas[kind].safeParse(body);
  if (!r.success) throw new UnreadableMessage(`not a ${kind} message: ${JSON.stringify(body)?.slice(0, 200)}`);
  return r.data;
}
