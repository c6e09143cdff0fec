/**
 * The one way Burst builds its ACI client. Against real Azure it authenticates with the
 * given credential (or DefaultAzureCredential); against the emulator (an http:// endpoint)
 * it sends no token at all, since the emulator has no identity to check.
 */
import { ContainerInstanceManagementClient, type ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import { DefaultAzureCredential } from "@azure/identity";
import type { Pipeline } from "@azure/core-rest-pipeline";
import { kindOf, REMAINING_HEADER, type ArmPacer } from "./armPacer.js";

/** @azure/core-auth's TokenCredential, taken from the client so Burst needs no extra dependency. */
export type TokenCredential = ConstructorParameters<typeof ContainerInstanceManagementClient>[0];

export interface AciClientOptions {
  subscriptionId: string;
  /** ARM endpoint; an http:// URL means the ACI emulator. Default: https://management.azure.com */
  endpoint?: string;
  credential?: TokenCredential;
  /** The emulator's per-run token (BURST_EMULATOR_TOKEN), sent as a bearer token. */
  emulatorToken?: string;
  /** Passed through to the SDK client (retry options, user agent, …). */
  clientOptions?: ContainerInstanceManagementClientOptionalParams;
  /** Paces every request (each retry too) within the subscription's ARM buckets (armPacer.ts). */
  pacer?: ArmPacer;
}

// The constructor insists on a credential; against the emulator it is never asked for a token.
const emulatorCredential: TokenCredential = {
  getToken: async () => ({ token: "aci-emulator", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export function createAciClient(options: AciClientOptions): ContainerInstanceManagementClient {
  const { subscriptionId, endpoint, clientOptions } = options;
  let client: ContainerInstanceManagementClient;
  if (endpoint?.toLowerCase().startsWith("http://")) {
    client = new ContainerInstanceManagementClient(options.credential ?? emulatorCredential, subscriptionId, {
      ...clientOptions,
      endpoint,
      allowInsecureConnection: true,
    });
    useEmulatorAuth(client.pipeline, options.emulatorToken);
  } else {
    client = new ContainerInstanceManagementClient(options.credential ?? new DefaultAzureCredential(), subscriptionId, {
      ...clientOptions,
      ...(endpoint ? { endpoint } : {}),
    });
  }
  if (options.pacer) usePacer(client.pipeline, options.pacer, subscriptionId);
  return client;
}

/** Sent by ACI with creates and deletes, and with the 429 of its 5-minute and hour windows. */
const ACI_WINDOW_HEADER = "x-ms-ratelimit-remaining-subscription-resource-requests-pt5m";

/**
 * Every request waits for its token in the subscription's bucket, and every answer tells
 * the pacer what ARM has left. After the retry policy, so that each retry is paced too.
 */
export function usePacer(pipeline: Pipeline, pacer: ArmPacer, subscriptionId: string): void {
  pipeline.addPolicy({
    name: "armPacer",
    sendRequest: async (request, next) => {
      // An aborted request is never sent (the HTTP client refuses it): it takes no token.
      if (request.abortSignal?.aborted) return next(request);
      const kind = kindOf(request.method);
      await pacer.acquire(subscriptionId, kind);
      const response = await next(request);
      const remaining = Number(response.headers.get(REMAINING_HEADER[kind]) ?? NaN);
      const retryAfter = Number(response.headers.get("retry-after") ?? NaN);
      // A 429 with ACI's resource-request headers is ACI's create/delete window of one region
      // (paced per placement, and deferred by the launch), not ARM's bucket: it must not stop
      // every other call of the subscription for minutes.
      const aciWindow = response.status === 429 && response.headers.get(ACI_WINDOW_HEADER) !== undefined;
      pacer.observe(subscriptionId, kind, {
        status: aciWindow ? 200 : response.status,
        remaining: Number.isFinite(remaining) ? remaining : undefined,
        retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
      });
      return response;
    },
  }, { afterPhase: "Retry" });
}

/**
 * Against the emulator: no Azure AD token (the SDK's bearer policy also refuses http://),
 * but its per-run token when it has one.
 */
export function useEmulatorAuth(pipeline: Pipeline, token: string | undefined): void {
  pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
  if (!token) return;
  pipeline.addPolicy({
    name: "emulatorToken",
    sendRequest: (request, next) => {
      request.headers.set("authorization", `Bearer ${token}`);
      return next(request);
    },
  });
}
