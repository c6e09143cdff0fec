/**
 * The jobs queue's message format, and its dispatch. A message holds one job spec or
 * an array of them, as JSON or YAML text, or `{"specBlob": "<name>"}` naming a blob in
 * the specs container for a spec too large for a queue message (64 KB). Specs that do
 * not validate become Rejected jobs; a message that cannot be read at all fails, and the
 * host moves it, byte for byte, to the poison queue after maxDequeueCount tries.
 */
import { z } from "zod";
import { parseSpecText } from "../jobSpec.js";
import { UnreadableMessage } from "../errors.js";
import { jobIdForMessage } from "./ids.js";
import { submitJob, type SubmitResult } from "./submit.js";
import type { Deps } from "./deps.js";

export interface MessageMeta {
  id: string;
  insertionTime: Date;
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

/** Turns the queue trigger's input (parsed JSON, or text) into spec values to validate. */
export async function specsFromMessage(message: unknown, source: SpecSource): Promise<unknown[]> {
  if (typeof message === "string") {
    const parsed = parseSpecText(message);
    if (!parsed.ok) throw new UnreadableMessage(`the message is neither a JSON nor a YAML job spec: ${parsed.errors[0]!.rule}`);
    return specsFromMessage(parsed.values.length === 1 ? parsed.values[0] : parsed.values, source);
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
  let specs: unknown[];
  try {
    specs = await specsFromMessage(message, source);
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
