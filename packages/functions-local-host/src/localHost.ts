/**
 * The local Functions host: loads the app's compiled functions (package.json `main`)
 * with `@azure/functions-core` provided, then runs their triggers against real
 * Storage (Azurite or Azure) with the Functions host's semantics. Several local hosts
 * can share one storage account, as scaled-out instances do in Azure.
 */
import os from "node:os";
import path from "node:path";
import http from "node:http";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { glob } from "tinyglobby";
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { FunctionsCore, installFunctionsCore, type RegisteredFunction } from "./core.js";
import type { RpcLogLevel, RpcLogCategory, RpcInvocationResponse, RpcTypedData } from "./coreTypes.js";
import { loadHostConfig, resolveAppSettings, type HostConfig } from "./hostConfig.js";
import { invokeFunction, typedDataToValues, type InvocationInput } from "./invoke.js";
import { QueueListener, encodeMessage } from "./queueListener.js";
import { createHttpServer, httpRoutes, type HttpKeys } from "./httpServer.js";
import { ListenerLock, TimerListener, parseSchedule } from "./timer.js";

export interface LocalHostOptions {
  appDir: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  listenHost?: string;
  keys: HttpKeys;
  /** Identifies the app in storage (locks); instances of one app share it. */
  hostId: string;
  /** Lease on fetched queue messages; the real host uses 10 minutes. */
  queueLeaseMs?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Lowest level written to the log. */
  logLevel?: RpcLogLevel;
}

const LEVELS: RpcLogLevel[] = ["trace", "debug", "information", "warning", "error", "critical", "none"];

export class LocalHost {
  readonly core: FunctionsCore;
  config!: HostConfig;
  #queueListeners = new Map<string, QueueListener>();
  #timers: TimerListener[] = [];
  #server?: http.Server;
  #queueServices = new Map<string, QueueServiceClient>();
  #port = 0;

  constructor(private readonly o: LocalHostOptions) {
    this.core = new FunctionsCore((level, category, message) => this.#log(level, category, message));
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get env(): NodeJS.ProcessEnv {
    return this.o.env ?? process.env;
  }

  #log(level: RpcLogLevel, category: RpcLogCategory, message: string, functionName?: string, invocationId?: string): void {
    const min = LEVELS.indexOf(this.o.logLevel ?? "information");
    if (LEVELS.indexOf(level) < min) return;
    const who = functionName ? ` ${functionName}${invocationId ? ` (${invocationId.slice(0, 8)})` : ""}` : "";
    const line = `${new Date().toISOString()} [${level}]${who}: ${message}`;
    (this.o.log ?? ((l) => process.stdout.write(`${l}\n`)))(line);
  }

  /**
   * A connection by the Functions convention: the setting holds a connection string, or
   * (identity-based) `NAME__queueServiceUri`/`__blobServiceUri` or `NAME__accountName`
   * name the account and `__credential: managedidentity` with `__clientId` the identity
   * (else DefaultAzureCredential). Identity-based connections come back as "identity:NAME".
   */
  #connection(settingName: unknown): string {
    const name = typeof settingName === "string" && settingName ? settingName : "AzureWebJobsStorage";
    for (const n of [name, `AzureWebJobs${name}`]) {
      if (this.env[n]) return this.env[n]!;
      if (this.env[`${n}__accountName`] || this.env[`${n}__queueServiceUri`] || this.env[`${n}__blobServiceUri`]) return `identity:${n}`;
    }
    throw new Error(`connection setting "${name}" is not set (nor ${name}__accountName or ${name}__queueServiceUri / __blobServiceUri)`);
  }

  #identity(connection: string, service: "queue" | "blob"): { url: string; credential: TokenCredential } {
    const n = connection.slice("identity:".length);
    const account = this.env[`${n}__accountName`];
    const url = this.env[`${n}__${service}ServiceUri`] ?? (account ? `https://${account}.${service}.core.windows.net` : undefined);
    if (!url) throw new Error(`connection "${n}" is identity-based but neither ${n}__${service}ServiceUri nor ${n}__accountName is set`);
    const clientId = this.env[`${n}__clientId`] || undefined;
    const managed = this.env[`${n}__credential`]?.toLowerCase() === "managedidentity";
    const credential = managed ? new ManagedIdentityCredential(clientId ? { clientId } : {}) : new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    return { url, credential };
  }

  #queueService(connection: string): QueueServiceClient {
    let s = this.#queueServices.get(connection);
    if (!s) {
      if (connection.startsWith("identity:")) {
        const { url, credential } = this.#identity(connection, "queue");
        s = new QueueServiceClient(url, credential);
      } else {
        s = QueueServiceClient.fromConnectionString(connection);
      }
      this.#queueServices.set(connection, s);
    }
    return s;
  }

  #blobService(connection: string): BlobServiceClient {
    if (!connection.startsWith("identity:")) return BlobServiceClient.fromConnectionString(connection);
    const { url, credential } = this.#identity(connection, "blob");
    return new BlobServiceClient(url, credential);
  }

  /** Loads the app, then starts every trigger. */
  async start(): Promise<void> {
    this.config = loadHostConfig(this.o.appDir, os.cpus().length);
    installFunctionsCore(this.core);
    const pkg = JSON.parse(readFileSync(path.join(this.o.appDir, "package.json"), "utf8")) as { main?: string };
    if (!pkg.main) throw new Error(`package.json in ${this.o.appDir} has no "main" naming the function files`);
    const files = (await glob(pkg.main, { cwd: this.o.appDir, absolute: true })).sort();
    if (files.length === 0) throw new Error(`no function files match "${pkg.main}" in ${this.o.appDir}; run the build first`);
    for (const f of files) await import(pathToFileURL(f).href);
    if (this.core.functions.size === 0) throw new Error(`the files matching "${pkg.main}" registered no functions`);

    for (const hook of this.core.hooks.appStart) {
      await hook({ hookData: {}, appHookData: this.core.appHookData, functionAppDirectory: this.o.appDir });
    }
    for (const fn of this.core.functions.values()) await this.#startTriggers(fn);
    await this.#startHttp();
    this.#log("information", "system", `host started with ${this.core.functions.size} functions: ${[...this.core.functions.values()].map((f) => f.metadata.name).join(", ")}`);
  }

  async #startTriggers(fn: RegisteredFunction): Promise<void> {
    for (const b of Object.values(fn.metadata.bindings)) {
      const type = String(b.type).toLowerCase();
      if (type === "queuetrigger") {
        const connection = this.#connection(b.connection);
        const queueName = resolveAppSettings(String(b.queueName), this.env);
        const service = this.#queueService(connection);
        const listener = new QueueListener({
          queue: service.getQueueClient(queueName),
          poison: service.getQueueClient(`${queueName}-poison`),
          options: this.config.queues,
          leaseMs: this.o.queueLeaseMs ?? 10 * 60_000,
          invoke: async (body, metadata) => { await this.invoke(fn, { triggerData: { string: body }, triggerMetadata: metadata }); },
          log: (level, message) => this.#log(level, "system", message, fn.metadata.name),
        });
        this.#queueListeners.set(`${connection}|${queueName}`, listener);
        listener.start();
      } else if (type === "timertrigger") {
        const schedule = parseSchedule(resolveAppSettings(String(b.schedule), this.env));
        const blobs = this.#blobService(this.#connection(undefined));
        const timer = new TimerListener({
          schedule,
          runOnStartup: Boolean(b.runOnStartup),
          lock: new ListenerLock(blobs.getContainerClient("azure-webjobs-hosts"), `locks/${this.o.hostId}/${fn.metadata.name}.Listener`),
          fire: async (info) => { await this.invoke(fn, { triggerData: { json: JSON.stringify(info) } }); },
          log: (level, message) => this.#log(level, "system", message, fn.metadata.name),
        });
        this.#timers.push(timer);
        await timer.start();
      }
    }
  }

  async #startHttp(): Promise<void> {
    const routes = httpRoutes(this.core.functions.values());
    this.#server = createHttpServer({
      routePrefix: this.config.routePrefix,
      routes: () => routes,
      keys: this.o.keys,
      invoke: (fn, request) => this.invoke(fn, { triggerData: { http: request } }),
      log: (level, message) => this.#log(level, "system", message),
    });
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.listenHost ?? "127.0.0.1", () => resolve());
    });
    const addr = server.address();
    this.#port = typeof addr === "object" && addr ? addr.port : this.o.port;
  }

  /** Runs one invocation and writes its queue output bindings. */
  async invoke(fn: RegisteredFunction, input: InvocationInput): Promise<RpcInvocationResponse> {
    const name = fn.metadata.name;
    const response = await invokeFunction(this.core, fn, input, (level, category, message, _fn, id) => this.#log(level, category, message, name, id))
      .catch((err: unknown) => {
        this.#log("error", "system", `failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, name);
        throw err;
      });
    await this.#writeQueueOutputs(fn, response);
    return response;
  }

  async #writeQueueOutputs(fn: RegisteredFunction, response: RpcInvocationResponse): Promise<void> {
    for (const [name, b] of Object.entries(fn.metadata.bindings)) {
      if (b.direction !== "out" || String(b.type).toLowerCase() !== "queue") continue;
      const data: RpcTypedData | null | undefined =
        name === "$return" ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
      const messages = typedDataToValues(data);
      if (messages.length === 0) continue;
      const connection = this.#connection(b.connection);
      const queueName = resolveAppSettings(String(b.queueName), this.env);
      const queue = this.#queueService(connection).getQueueClient(queueName);
      await queue.createIfNotExists();
      for (const m of messages) await queue.sendMessage(encodeMessage(m, this.config.queues.messageEncoding));
      // The real host's SharedQueueWatcher wakes a listener when this host writes to its queue.
      this.#queueListeners.get(`${connection}|${queueName}`)?.wake();
    }
  }

  /** Stops taking new work, lets running invocations finish, then runs appTerminate hooks. */
  async stop(): Promise<void> {
    // Idle keep-alive connections would hold close() open for their timeout: cut them now.
    const closed = new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server?.closeIdleConnections?.();
    await closed;
    await Promise.all([...this.#queueListeners.values()].map((l) => l.stop()));
    await Promise.all(this.#timers.map((t) => t.stop()));
    for (const hook of this.core.hooks.appTerminate) {
      await Promise.resolve(hook({ hookData: {}, appHookData: this.core.appHookData })).catch(() => undefined);
    }
  }
}
