/**
 * The one way Burst builds its ACI client. Against real Azure it authenticates with the
 * given credential (or DefaultAzureCredential); against the emulator (an http:// endpoint)
 * it sends no token at all, since the emulator has no identity to check.
 */
import { ContainerInstanceManagementClient, type ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import { DefaultAzureCredential } from "@azure/identity";
import type { Pipeline } from "@azure/core-rest-pipeline";

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
}

// The constructor insists on a credential; against the emulator it is never asked for a token.
const emulatorCredential: TokenCredential = {
  getToken: async () => ({ token: "aci-emulator", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export function createAciClient(options: AciClientOptions): ContainerInstanceManagementClient {
  const { subscriptionId, endpoint, clientOptions } = options;
  if (endpoint?.toLowerCase().startsWith("http://")) {
    const client = new ContainerInstanceManagementClient(options.credential ?? emulatorCredential, subscriptionId, {
      ...clientOptions,
      endpoint,
      allowInsecureConnection: true,
    });
    useEmulatorAuth(client.pipeline, options.emulatorToken);
    return client;
  }
  return new ContainerInstanceManagementClient(options.credential ?? new DefaultAzureCredential(), subscriptionId, {
    ...clientOptions,
    ...(endpoint ? { endpoint } : {}),
  });
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
