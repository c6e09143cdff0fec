/**
 * The jobs queue's message format, and its dispatch. A message holds one job spec or
 * an array of them, as JSON or YAML text, or `{"specBlob": "<name>"}` naming a blob in
 * the specs container for a spec too large for a queue message (64 KB). Specs that do
 * not validate become Rejected jobs; a message that cannot be read at all fails, and the
 * host moves it, byte for byte, to the poison queue after maxDequeueCount tries.
 */
import { z } from "zod";
import { parseSpecText } from "../jobSpec.js";
import { UnreadableMessage, errorMessage } from "../errors.js";
import { open, seal, type KeyRing } from "../secrets.js";
import { jobIdForMessage } from "./ids.js";
import { submitJob, type SubmitResult } from "./submit.js";
import type { Deps } from "./deps.js";

export interface MessageMeta {
  id: string;
  insertionTime: Date;
  /** The message's text as the host decoded it (trigger metadata `queueTrigger`), when known. */
  text?: string;
}

export interface SpecSource {
  readSpecBlob(name: string): Promise<string | undefined>;
  /** Removes a spec blob once its jobs exist: it may hold secure values in clear. */
  deleteSpecBlob(name: string): Promise<void>;
}

/** A specBlob message whose blob is gone: either never there, or already turned into jobs and deleted. */
class SpecBlobGone extends UnreadableMessage {
  override name = "SpecBlobGone";
}

const specRef = z.strictObject({ specBlob: z.string().regex(/^[A-Za-z0-9._/-]{1,512}$/).refine((s) => !s.split("/").includes(".."), "must not contain ..") });

/**
 * A submission Burst parked in the poison queue itself (see parkSubmission): its specs,
 * secure values sealed, and the original message's id and time, so that sending it back
 * lands on the same jobs as the original would have.
 */
const parked = z.strictObject({
  burstParked: z.strictObject({ messageId: z.string().min(1).max(100), insertionTime: z.string(), failedAt: z.string(), tries: z.number(), error: z.string() }),
  specs: z.array(z.record(z.string(), z.unknown())).min(1).max(100),
});
type Parked = z.output<typeof parked>;

const parkedAad = (messageId: string, i: number) => `parked:${messageId}:${i}`;

/**
 * Unreadable text that may have reached Burst unquoted: the Functions library hands over
 * a JSON string message (`"text"`) and a plain one (`text`) alike, so its bytes cannot be
 * rebuilt, and the host moves it to the poison queue itself, after its tries.
 */
class AmbiguousText extends UnreadableMessage {}

/** Turns the queue trigger's input (parsed JSON, or text) into spec values to validate. */
export async function specsFromMessage(message: unknown, source: SpecSource, ring?: KeyRing): Promise<unknown[]> {
  if (message && typeof message === "object" && "burstParked" in message) return unpark(message, ring);
  if (typeof message === "string") {
    const parsed = parseSpecText(message);
    if (!parsed.ok) throw new UnreadableMessage(`the message is neither a JSON nor a YAML job spec: ${parsed.errors[0]!.rule}`);
    const value = parsed.values.length === 1 ? parsed.values[0] : parsed.values;
    // Text that reads as text again (a JSON string, a bare YAML scalar) is not a spec: never parse it twice.
    if (typeof value === "string") throw new AmbiguousText("the message is a string, not a job spec object");
    return specsFromMessage(value, source, ring);
  }
  if (Array.isArray(message)) {
    if (message.length === 0) throw new UnreadableMessage("the message is an empty array");
    if (message.length > 100) throw new UnreadableMessage(`the message holds ${message.length} specs; at most 100 per message`);
    return message;
  }
  if (message === null || typeof message !== "object") throw new UnreadableMessage(`the message is a ${message === null ? "null" : typeof message}, not a job spec object`);
  if ("specBlob" in message) {
    const ref = specRef.safeParse(message);
    if (!ref.success) throw new UnreadableMessage(`specBlob must be a blob name of letters, digits and . _ / -, got ${JSON.stringify((message as { specBlob: unknown }).specBlob)}`);
    const text = await source.readSpecBlob(ref.data.specBlob);
    if (text === undefined) throw new SpecBlobGone(`specBlob ${JSON.stringify(ref.data.specBlob)} does not exist in the specs container`);
    const parsed = parseSpecText(text);
    if (!parsed.ok) throw new UnreadableMessage(`specBlob ${ref.data.specBlob}: ${parsed.errors[0]!.rule}`);
    return parsed.values;
  }
  return [message];
}

const idFor = (meta: MessageMeta, i: number, count: number) => jobIdForMessage(count === 1 ? meta.id : `${meta.id}#${i}`, meta.insertionTime);

export async function dispatchMessage(deps: Deps, source: SpecSource, message: unknown, meta: MessageMeta): Promise<SubmitResult[]> {
  // A parked submission sent back keeps its original message's jobs.
  const original = parkedMeta(message);
  if (original) meta = original;
  let specs: unknown[];
  try {
    specs = await specsFromMessage(message, source, deps.config.secrets);
  } catch (err) {
    // Redelivered after its blob was turned into jobs and deleted: nothing is left to do.
    if (err instanceof SpecBlobGone && ((await deps.jobs.get(idFor(meta, 0, 1))) || (await deps.jobs.get(idFor(meta, 0, 2))))) return [];
    throw err;
  }
  const results: SubmitResult[] = [];
  for (const [i, spec] of specs.entries()) {
    results.push(await submitJob(deps, spec, { jobId: idFor(meta, i, specs.length), source: { queueMessageId: meta.id } }));
  }
  // Every job now exists (and holds its secure values sealed): the blob, which may hold them in clear, goes.
  const blob = blobNameOf(message);
  if (blob) await source.deleteSpecBlob(blob);
  return results;
}

function blobNameOf(message: unknown): string | undefined {
  if (typeof message === "string") {
    const parsed = parseSpecText(message);
    return parsed.ok && parsed.values.length === 1 ? blobNameOf(parsed.values[0]) : undefined;
  }
  const r = specRef.safeParse(message);
  return r.success ? r.data.specBlob : undefined;
}

function asParked(message: unknown): Parked | undefined {
  const value = typeof message === "string" ? (() => { try { return JSON.parse(message) as unknown; } catch { return undefined; } })() : message;
  const r = parked.safeParse(value);
  return r.success ? r.data : undefined;
}

function parkedMeta(message: unknown): MessageMeta | undefined {
  const p = asParked(message);
  return p ? { id: p.burstParked.messageId, insertionTime: new Date(p.burstParked.insertionTime) } : undefined;
}

function unpark(message: unknown, ring: KeyRing | undefined): unknown[] {
  const p = asParked(message);
  if (!p) throw new UnreadableMessage("the message looks like a parked submission but is not one");
  return p.specs.map((spec, i) => {
    const { sealedSecureEnv, ...rest } = spec as { sealedSecureEnv?: unknown } & Record<string, unknown>;
    if (typeof sealedSecureEnv !== "string") return rest;
    if (!ring) throw new UnreadableMessage("a parked submission's secure values need the key ring to open");
    return { ...rest, secureEnv: open(sealedSecureEnv, ring, parkedAad(p.burstParked.messageId, i)) };
  });
}

/**
 * On a submission's last try, instead of letting the host copy it into the poison queue
 * byte for byte (secure values in clear, for the queue's 7-day time to live), Burst parks
 * a copy of its own there: the specs with their secure values sealed under the current key
 * (dropped, if there is none), and what failed. It returns true when it parked one, and
 * the original message may then be deleted. A message it cannot read at all is moved
 * there as it came, on its first try (handleQueueMessage).
 */
export async function parkSubmission(deps: Deps, source: SpecSource, poison: { park(queue: "jobs", json: string): Promise<void> }, message: unknown, meta: MessageMeta, tries: number, cause: unknown): Promise<boolean> {
  let specs: unknown[];
  try {
    specs = await specsFromMessage(message, source, deps.config.secrets);
  } catch (err) {
    // Unreadable: its text, as the host received it, is all there is to inspect. Moved at
    // once, since no retry can make it readable.
    if (!(err instanceof UnreadableMessage) || meta.text === undefined || err instanceof AmbiguousText) return false;
    await poison.park("jobs", meta.text);
    return true;
  }
  const original = parkedMeta(message) ?? meta;
  const safe = specs.map((spec, i) => {
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) return spec;
    const { secureEnv, ...rest } = spec as { secureEnv?: unknown } & Record<string, unknown>;
    if (secureEnv === undefined) return rest;
    if (!deps.config.secrets.current || !secureEnv || typeof secureEnv !== "object") return { ...rest, secureEnvNames: secureEnv && typeof secureEnv === "object" ? Object.keys(secureEnv) : [] };
    return { ...rest, sealedSecureEnv: seal(secureEnv as Record<string, string>, deps.config.secrets, parkedAad(original.id, i)) };
  });
  const envelope: Parked = {
    burstParked: { messageId: original.id, insertionTime: original.insertionTime.toISOString(), failedAt: deps.clock.now().toISOString(), tries, error: errorMessage(cause).slice(0, 500) },
    specs: safe as Record<string, unknown>[],
  };
  await poison.park("jobs", JSON.stringify(envelope));
  return true;
}
