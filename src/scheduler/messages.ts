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
export type StepMessage =
  | ({ step: "poll" } & MonitorMessage)
  | { step: "polls"; polls: MonitorMessage[] }
  | { step: "launches"; jobIds: string[] }
  | ({ step: "launch" } & LaunchMessage)
  | ({ step: "pump" } & PumpMessage);

const MAX_POLLS = 100;

export function readStep(body: unknown): StepMessage {
  const step = body !== null && typeof body === "object" && "step" in body ? (body as { step: unknown }).step : undefined;
  if (step === undefined) return { step: "poll", ...readInternal("monitor", body) };
  const rest = { ...(body as object) } as Record<string, unknown>;
  delete rest.step;
  if (step === "launch") return { step, ...readInternal("launch", rest) };
  if (step === "pump") return { step, ...readInternal("pump", rest) };
  if (step === "launches") {
    const jobIds = (rest as { jobIds?: unknown }).jobIds;
    if (!Array.isArray(jobIds) || jobIds.length === 0 || jobIds.length > MAX_POLLS || Object.keys(rest).length !== 1) {
      throw new UnreadableMessage(`not a launches message (1 to ${MAX_POLLS} job ids): ${JSON.stringify(body)?.slice(0, 200)}`);
    }
    return { step, jobIds: jobIds.map((jobId) => readInternal("launch", { jobId }).jobId) };
  }
  if (step === "polls") {
    const polls = (rest as { polls?: unknown }).polls;
    if (!Array.isArray(polls) || polls.length === 0 || polls.length > MAX_POLLS || Object.keys(rest).length !== 1) {
      throw new UnreadableMessage(`not a polls message (1 to ${MAX_POLLS} polls): ${JSON.stringify(body)?.slice(0, 200)}`);
    }
    return { step, polls: polls.map((p) => readInternal("monitor", p)) };
  }
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
