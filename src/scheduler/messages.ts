/** Shapes of Burst's internal queue messages, checked on receipt; a bad one is unreadable. */
import { z } from "zod";
import { UnreadableMessage } from "../errors.js";
import type { LaunchMessage, MonitorMessage, PumpMessage } from "../store/outbox.js";

// Array children add "-" and a five-digit index to their parent's id.
const id = z.string().regex(/^[a-z0-9]{1,40}(?:-[0-9]{5})?$/);
const schemas = {
  launch: z.strictObject({ jobId: id }),
  monitor: z.strictObject({ jobId: id, attempt: z.number().int().min(1), seq: z.number().int().min(0), fresh: z.literal(true).optional() }),
  pump: z.strictObject({ pool: z.string().regex(/^[a-z0-9-]{1,32}$/) }),
};

/** A message of the monitor queue: a poll (no `step`), a launch or a pool's wake-up (see store/outbox.ts). */
export type StepMessage = ({ step: "poll" } & MonitorMessage) | ({ step: "launch" } & LaunchMessage) | ({ step: "pump" } & PumpMessage);

export function readStep(body: unknown): StepMessage {
  const step = body !== null && typeof body === "object" && "step" in body ? (body as { step: unknown }).step : undefined;
  if (step === undefined) return { step: "poll", ...readInternal("monitor", body) };
  const rest = { ...(body as object) } as Record<string, unknown>;
  delete rest.step;
  if (step === "launch") return { step, ...readInternal("launch", rest) };
  if (step === "pump") return { step, ...readInternal("pump", rest) };
  throw new UnreadableMessage(`not a step Burst knows: ${JSON.stringify(body)?.slice(0, 200)}`);
}

export function readInternal(kind: "launch", body: unknown): LaunchMessage;
export function readInternal(kind: "monitor", body: unknown): MonitorMessage;
export function readInternal(kind: "pump", body: unknown): PumpMessage;
export function readInternal(kind: keyof typeof schemas, body: unknown): unknown {
  const r = schemas[kind].safeParse(body);
  if (!r.success) throw new UnreadableMessage(`not a ${kind} message: ${JSON.stringify(body)?.slice(0, 200)}`);
  return r.data;
}
