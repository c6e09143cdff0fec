/**
 * The `@azure/functions-core` module that the real Node.js worker provides to
 * `@azure/functions`. With it installed before the app loads, every `app.http`,
 * `app.storageQueue` and `app.timer` call registers for real, with its bindings.
 * The shape follows types-core/index.d.ts of azure-functions-nodejs-library.
 */
import Module from "node:module";
import type * as core from "./coreTypes.js";

export type LogSink = (level: core.RpcLogLevel, category: core.RpcLogCategory, message: string, functionName?: string) => void;

export interface RegisteredFunction {
  metadata: core.FunctionMetadata;
  callback: core.FunctionCallback;
}

type HookName = "preInvocation" | "postInvocation" | "appStart" | "appTerminate" | "log";

class Disposable {
  static from(...items: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  #onDispose?: () => unknown;
  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }
  dispose(): unknown {
    const f = this.#onDispose;
    this.#onDispose = undefined;
    return f?.();
  }
}

export class FunctionsCore {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, core.HookCallback[]> = {
    preInvocation: [], postInvocation: [], appStart: [], appTerminate: [], log: [],
  };
  readonly appHookData: core.HookData = {};
  programmingModel?: core.ProgrammingModel;

  constructor(private readonly sink: LogSink) {}

  /** The object handed out as the `@azure/functions-core` module. */
  module(): Record<string, unknown> {
    const self = this;
    return {
      version: "3.10.1-burst-local",
      hostVersion: "4.0.0-burst-local",
      Disposable,
      registerFunction(metadata: core.FunctionMetadata, callback: core.FunctionCallback) {
        const key = metadata.name.toLowerCase();
        if (self.functions.has(key)) throw new Error(`A function named "${metadata.name}" is already registered.`);
        self.functions.set(key, { metadata, callback });
        return new Disposable(() => self.functions.delete(key));
      },
      registerHook(name: string, callback: core.HookCallback) {
        const list = self.hooks[name as HookName];
        if (!list) throw new Error(`Unknown hook "${name}".`);
        list.push(callback);
        return new Disposable(() => list.splice(list.indexOf(callback), 1));
      },
      setProgrammingModel(model: core.ProgrammingModel) {
        self.programmingModel = model;
      },
      getProgrammingModel() {
        if (!self.programmingModel) throw new Error("No programming model has been set.");
        return self.programmingModel;
      },
      log(level: core.RpcLogLevel, category: core.RpcLogCategory, message: string) {
        self.sink(level, category, message);
      },
    };
  }
}

let installed: FunctionsCore | undefined;

/**
 * Makes `require("@azure/functions-core")` return this core, as the real worker does
 * by hooking the CommonJS loader. `@azure/functions` is CommonJS, so its require goes
 * through Module._load even when the app itself is ESM.
 */
export function installFunctionsCore(coreImpl: FunctionsCore): void {
  if (installed) throw new Error("@azure/functions-core is already installed in this process");
  installed = coreImpl;
  const mod = coreImpl.module();
  const M = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = M._load;
  M._load = function (request: string, ...rest: unknown[]) {
    if (request === "@azure/functions-core") return mod;
    return original.call(this, request, ...rest);
  };
}
