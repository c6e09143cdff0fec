/**
 * Runs one invocation the way the Node.js worker does: build the core invocation
 * context, let the programming model turn RPC data into arguments, run hooks and the
 * handler, and let it turn the result back into RPC output data.
 */
import { randomUUID } from "node:crypto";
import type { FunctionsCore, RegisteredFunction } from "./core.js";
import type { RpcInvocationResponse, RpcTypedData, RpcLogLevel, RpcLogCategory } from "./coreTypes.js";

export interface InvocationInput {
  triggerData: RpcTypedData;
  triggerMetadata?: Record<string, RpcTypedData>;
}

export type InvocationLog = (level: RpcLogLevel, category: RpcLogCategory, message: string, functionName: string, invocationId: string) => void;

export function triggerBindingName(fn: RegisteredFunction): string {
  for (const [name, b] of Object.entries(fn.metadata.bindings)) {
    if (b.direction === "in" && typeof b.type === "string" && /trigger$/i.test(b.type)) return name;
  }
  throw new Error(`function "${fn.metadata.name}" has no trigger binding`);
}

export async function invokeFunction(
  core: FunctionsCore,
  fn: RegisteredFunction,
  input: InvocationInput,
  log: InvocationLog,
): Promise<RpcInvocationResponse> {
  const model = core.programmingModel;
  if (!model) throw new Error("no programming model registered; did the app import @azure/functions?");
  const invocationId = randomUUID();
  const name = fn.metadata.name;
  const coreCtx = {
    invocationId,
    request: {
      invocationId,
      functionId: name,
      inputData: [{ name: triggerBindingName(fn), data: input.triggerData }],
      triggerMetadata: input.triggerMetadata ?? {},
    },
    metadata: fn.metadata,
    state: "invocation" as const,
    log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => log(level, category, message, name, invocationId),
  };
  const invocation = await model.getInvocationModel(coreCtx);
  const { context, inputs } = await invocation.getArguments();

  const hookData: Record<string, unknown> = {};
  let callback = fn.callback;
  let args = inputs;
  for (const hook of core.hooks.preInvocation) {
    const hookCtx = { invocationContext: context, inputs: args, functionCallback: callback, hookData, appHookData: core.appHookData };
    await hook(hookCtx);
    args = hookCtx.inputs;
    callback = hookCtx.functionCallback;
  }

  let result: unknown;
  let error: unknown;
  try {
    result = await invocation.invokeFunction(context, args, callback);
  } catch (err) {
    error = err;
  }
  for (const hook of core.hooks.postInvocation) {
    const hookCtx = { invocationContext: context, inputs: args, result, error, hookData, appHookData: core.appHookData };
    await hook(hookCtx);
    result = hookCtx.result;
    error = hookCtx.error;
  }
  if (error !== undefined) throw error;
  return invocation.getResponse(context, result);
}

/** The host's view of RPC typed data as text, for output bindings. */
export function typedDataToValues(data: RpcTypedData | null | undefined): string[] {
  if (!data) return [];
  if (data.string != null) return [data.string];
  if (data.bytes != null) return [Buffer.from(data.bytes).toString("utf8")];
  if (data.int != null) return [String(data.int)];
  if (data.double != null) return [String(data.double)];
  if (data.json != null) {
    // An array written to a queue output binding becomes one message per element.
    const parsed: unknown = JSON.parse(data.json);
    if (Array.isArray(parsed)) return parsed.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    return [data.json];
  }
  return [];
}
