/**
 * The one way Burst builds its ACI client. Against real Azure it authenticates with the
 * given credential (or DefaultAzureCredential); against the emulator (an http:// endpoint)
 * it sends no token at all, since the emulator has no identity to check.
 */
import { ContainerInstanceManagementClient, type ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import { DefaultAzureCredential } from "@azure/identity";

/** @azure/core-auth's TokenCredential, taken from the client so Burst needs no extra dependency. */
export type TokenCredential = ConstructorParameters<typeof ContainerInstanceManagementClient>[0];

export interface AciClientOptions {
  subscriptionId: string;
  /** ARM endpoint; an http:// URL means the ACI emulator. Default: https://management.azure.com */
  endpoint?: string;
  credential?: TokenCredential;
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
    client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
    return client;
  }
  return new ContainerInstanceManagementClient(options.credential ?? new DefaultAzureCredential(), subscriptionId, {
    ...clientOptions,
    ...(endpoint ? { endpoint } : {}),
  });
}
