/**
 * The container backend: the five ARM calls Burst makes on container groups, through
 * the real @azure/arm-containerinstance client (Azure, or the emulator in local runs).
 * Errors are classified here, once: retryable platform trouble vs. permanent.
 */
import type { ContainerGroup, ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import pLimit from "p-limit";
import { PermanentLaunchError, RetryablePlatformError, ThrottledError, errorMessage } from "../errors.js";

/**
 * Creates go through a client without the SDK's own retries: its throttling policy would
 * sleep through a 429's Retry-After inside the call, and ACI's create windows can ask
 * for minutes. Burst defers the launch instead, and retries a 5xx itself (re-sending an
 * identical PUT is safe: ACI answers it as an update of the same group, not a new one).
 */
export const CREATE_TRIES = 3;

export interface GroupRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface GroupEvent {
  name?: string;
  message?: string;
  type?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
}

export interface GroupView {
  provisioningState?: string;
  /** instanceView.state: Pending, Running, Succeeded, Failed, Stopped. */
  state?: string;
  containerState?: string;
  exitCode?: number;
  startTime?: string;
  finishTime?: string;
  detailStatus?: string;
  restartCount: number;
  /** Earliest "Pulling" event: ACI starts billing here. */
  pullStartedAt?: string;
  events: GroupEvent[];
  ip?: string;
  fqdn?: string;
  ports: number[];
  tags: Record<string, string>;
}

export interface GroupSummary {
  name: string;
  resourceGroup: string;
  tags: Record<string, string>;
}

export interface ContainerBackend {
  /** Sends the PUT only (no waiting for provisioning); "existed" when it was an update of an existing group. */
  create(ref: GroupRef, group: ContainerGroup): Promise<"created" | "existed">;
  get(ref: GroupRef): Promise<GroupView | undefined>;
  logs(ref: GroupRef, container: string, tail?: number): Promise<string>;
  stop(ref: GroupRef): Promise<void>;
  /** Deletes; a group already gone is fine. */
  delete(ref: GroupRef): Promise<void>;
  list(subscriptionId: string, resourceGroup: string): AsyncIterable<GroupSummary>;
}

const iso = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

function retryAfterSeconds(err: unknown): number | undefined {
  const header = (err as { response?: { headers?: { get(name: string): string | undefined } } })?.response?.headers?.get("retry-after");
  const n = header === undefined ? NaN : Number(header);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * ACI's error codes by what happens next. Classified by `code`, never by message text.
 * - Quota: `ContainerGroupQuotaReached` (Microsoft's troubleshooting article of that name).
 *   The quota refusal also comes as `ServiceUnavailable` ("container group quota
 *   'ContainerGroups' exceeded in region": MicrosoftDocs/SupportArticles-docs,
 *   service-unavailable-container-group-quota-exceeded.md), so that code is classed
 *   capacity: both move the launch to the next placement, which is all that matters.
 * - Capacity: `ServiceUnavailable` as a 4xx, the code the sync capacity refusal ("The
 *   requested resource with 'x' CPU … is not available in the location …") carries, and
 *   `InsufficientCapacity`, the event name the async refusal reports
 *   (Azure/Azure-Landing-Zones#2404); `SkuNotAvailable` is ARM's generic one.
 * - Placement: `MissingSubscriptionRegistration` (the subscription is not registered for
 *   Microsoft.ContainerInstance) and `LocationNotAvailableForResourceType` (ACI is not
 *   offered in the region), ARM's codes from its "resource provider registration" and
 *   "SKU not available" troubleshooting articles: that placement can never take the
 *   group, another may.
 * - Anything else below 500 is the request's own fault (`InaccessibleImage`,
 *   `InvalidRequestContent`, …): retrying cannot help.
 */
const QUOTA_CODES = new Set(["ContainerGroupQuotaReached"]);
const CAPACITY_CODES = new Set(["ServiceUnavailable", "InsufficientCapacity", "SkuNotAvailable"]);
const PLACEMENT_CODES = new Set(["MissingSubscriptionRegistration", "LocationNotAvailableForResourceType"]);

export function classifyArmError(err: unknown): Error {
  const e = err as { statusCode?: number; code?: string; message?: string; name?: string };
  const status = e?.statusCode;
  const message = errorMessage(err);
  const code = e?.code;
  const text = `ARM ${status ?? "network error"}${code ? ` ${code}` : ""}: ${message}`.replace(/\s+/g, " ");
  if (status === 429) return new ThrottledError(text, retryAfterSeconds(err) ?? 10);
  if (status === undefined || status >= 500) return new RetryablePlatformError(text, code, status, "transient");
  if (code && QUOTA_CODES.has(code)) return new RetryablePlatformError(text, code, status, "quota");
  if (code && CAPACITY_CODES.has(code)) return new RetryablePlatformError(text, code, status, "capacity");
  if (code && PLACEMENT_CODES.has(code)) return new RetryablePlatformError(text, code, status, "placement");
  return new PermanentLaunchError(text, code);
}

export function toView(g: ContainerGroup): GroupView {
  const c = g.containers?.[0];
  const cv = c?.instanceView;
  const events: GroupEvent[] = [...(g.instanceView?.events ?? []), ...(cv?.events ?? [])].map((ev) => ({
    name: ev.name, message: ev.message, type: ev.type, count: ev.count,
    firstTimestamp: iso(ev.firstTimestamp), lastTimestamp: iso(ev.lastTimestamp),
  }));
  const pulls = events.filter((ev) => ev.name === "Pulling" && ev.firstTimestamp).map((ev) => ev.firstTimestamp!).sort();
  return {
    provisioningState: g.provisioningState,
    state: g.instanceView?.state,
    containerState: cv?.currentState?.state,
    exitCode: cv?.currentState?.exitCode,
    // A client stop leaves no start time on the current state; the run it ended is the previous one.
    startTime: iso(cv?.currentState?.startTime ?? (cv?.currentState?.state === "Terminated" && cv.previousState?.state === "Running" ? cv.previousState.startTime : undefined)),
    finishTime: iso(cv?.currentState?.finishTime),
    detailStatus: cv?.currentState?.detailStatus,
    restartCount: cv?.restartCount ?? 0,
    pullStartedAt: pulls[0],
    events,
    ip: g.ipAddress?.ip,
    fqdn: g.ipAddress?.fqdn,
    ports: (g.ipAddress?.ports ?? []).map((p) => p.port),
    tags: g.tags ?? {},
  };
}

export class AciBackend implements ContainerBackend {
  /**
   * Reads and changes (creates, stops, deletes) queue apart: a read waits inside the call
   * for its token in the subscription's read bucket, and a create queued behind such reads
   * would wait for the read bucket too.
   */
  readonly #reads: ReturnType<typeof pLimit>;
  readonly #changes: ReturnType<typeof pLimit>;
  readonly #clients = new Map<string, ContainerInstanceManagementClient>();

  /**
   * `clientFor(subscriptionId, retries)` builds an SDK client; `retries: false` means one
   * without the SDK's retry policy. `maxConcurrent` bounds this process's own parallel
   * ARM reads, and its changes apart; it is not the pool's slot limit.
   */
  constructor(private readonly clientFor: (subscriptionId: string, retries: boolean) => ContainerInstanceManagementClient, maxConcurrent: number) {
    this.#reads = pLimit(maxConcurrent);
    this.#changes = pLimit(maxConcurrent);
  }

  #client(subscriptionId: string, retries = true): ContainerInstanceManagementClient {
    const key = `${subscriptionId}|${retries}`;
    let c = this.#clients.get(key);
    if (!c) {
      c = this.clientFor(subscriptionId, retries);
      this.#clients.set(key, c);
    }
    return c;
  }

  async #call<T>(limit: ReturnType<typeof pLimit>, f: () => Promise<T>): Promise<T> {
    try {
      return await limit(f);
    } catch (err) {
      throw classifyArmError(err);
    }
  }

  /**
   * Sends the PUT and returns on its answer. The SDK's `beginCreateOrUpdate` reads the
   * operation's status once before it returns a poller, a read-bucket call Burst never
   * used: the group's own polls follow it from here. So the call is aborted once the PUT
   * is answered 200 or 201, and that poll is never sent.
   */
  async create(ref: GroupRef, group: ContainerGroup): Promise<"created" | "existed"> {
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      const answered = new AbortController();
      try {
        await this.#call(this.#changes, async () => {
          try {
            await this.#client(ref.subscriptionId, false).containerGroups.beginCreateOrUpdate(ref.resourceGroup, ref.name, group, {
              abortSignal: answered.signal,
              onResponse: (raw) => {
                status ||= raw.status;
                if (status === 200 || status === 201) answered.abort();
              },
            });
          } catch (err) {
            // Aborted only once the PUT was answered 200 or 201: the abort is the success.
            if (!answered.signal.aborted) throw err;
          }
        });
        return status === 201 ? "created" : "existed";
      } catch (err) {
        if (!(err instanceof RetryablePlatformError) || !err.transient || attempt >= CREATE_TRIES) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  async get(ref: GroupRef): Promise<GroupView | undefined> {
    try {
      return toView(await this.#reads(() => this.#client(ref.subscriptionId).containerGroups.get(ref.resourceGroup, ref.name)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw classifyArmError(err);
    }
  }

  async logs(ref: GroupRef, container: string, tail?: number): Promise<string> {
    const r = await this.#call(this.#reads, () => this.#client(ref.subscriptionId).containers.listLogs(ref.resourceGroup, ref.name, container, { tail, timestamps: true }));
    return r.content ?? "";
  }

  async stop(ref: GroupRef): Promise<void> {
    try {
      await this.#changes(() => this.#client(ref.subscriptionId).containerGroups.stop(ref.resourceGroup, ref.name));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw classifyArmError(err);
    }
  }

  async delete(ref: GroupRef): Promise<void> {
    try {
      await this.#changes(() => this.#client(ref.subscriptionId).containerGroups.beginDeleteAndWait(ref.resourceGroup, ref.name, { updateIntervalInMs: 1000 }));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw classifyArmError(err);
    }
  }

  async *list(subscriptionId: string, resourceGroup: string): AsyncIterable<GroupSummary> {
    try {
      for await (const g of this.#client(subscriptionId).containerGroups.listByResourceGroup(resourceGroup)) {
        yield { name: g.name!, resourceGroup, tags: g.tags ?? {} };
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw classifyArmError(err);
    }
  }
}
