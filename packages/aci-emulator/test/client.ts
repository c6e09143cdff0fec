/**
 * Clients for the tests, set up as any caller outside Azure would: the real
 * @azure/arm-containerinstance client with its Azure AD policy removed (the emulator checks
 * no identity, only its per-run token when it has one), and the Cost Management query
 * read over plain HTTP, following nextLink as the service asks.
 */
import { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import type { ServiceClientOptions } from "@azure/core-client";

export function createAciClient(options: {
  subscriptionId: string;
  endpoint: string;
  emulatorToken?: string;
  clientOptions?: ServiceClientOptions;
}): ContainerInstanceManagementClient {
  const noIdentity = { getToken: async () => ({ token: "unused", expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const client = new ContainerInstanceManagementClient(noIdentity, options.subscriptionId, {
    ...options.clientOptions,
    endpoint: options.endpoint,
    allowInsecureConnection: true,
  });
  client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
  const token = options.emulatorToken;
  if (token) {
    client.pipeline.addPolicy({
      name: "emulatorToken",
      sendRequest: (request, next) => (request.headers.set("authorization", `Bearer ${token}`), next(request)),
    });
  }
  return client;
}

export interface CostScope {
  subscriptionId: string;
  resourceGroup: string;
}

/** A container group's resource id as Cost Management reports it (lower case). */
export function billedResourceId(scope: CostScope, name: string): string {
  return `/subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroup}/providers/microsoft.containerinstance/containergroups/${name}`.toLowerCase();
}

/** Cost per resource id in a resource group over whole UTC days, summed over every page. */
export async function costsByResource(endpoint: string, scope: CostScope, fromDay: string, toDay: string): Promise<Map<string, number>> {
  const body = JSON.stringify({
    type: "ActualCost",
    timeframe: "Custom",
    timePeriod: { from: `${fromDay}T00:00:00Z`, to: `${toDay}T23:59:59Z` },
    dataset: {
      granularity: "Daily",
      aggregation: { totalCost: { name: "Cost", function: "Sum" } },
      grouping: [{ type: "Dimension", name: "ResourceId" }],
    },
  });
  const out = new Map<string, number>();
  let url: string | undefined =
    `${endpoint}/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/Microsoft.CostManagement/query?api-version=2022-10-01`;
  while (url) {
    const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (!r.ok) throw new Error(`cost query answered ${r.status}: ${await r.text()}`);
    const page = ((await r.json()) as { properties: { columns: { name: string }[]; rows: unknown[][]; nextLink?: string | null } })
      .properties;
    const columns = page.columns.map((c) => c.name);
    for (const row of page.rows) {
      const key = String(row[columns.indexOf("ResourceId")]).toLowerCase();
      out.set(key, (out.get(key) ?? 0) + Number(row[columns.indexOf("Cost")]));
    }
    url = page.nextLink ?? undefined;
  }
  return out;
}
