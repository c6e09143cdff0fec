/**
 * What Azure actually charged for Burst's container groups: the Cost Management Query API
 * through the official client (@azure/arm-costmanagement, api-version 2022-10-01), scoped
 * to a pool's resource group, grouped by ResourceId at daily granularity. ACI's charges
 * show up there per container group, hours after the group ran (the emulator serves the
 * same query from its billing meter, after a configurable delay).
 */
import { CostManagementClient, type QueryDefinition, type QueryResult } from "@azure/arm-costmanagement";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import { useEmulatorAuth, type TokenCredential } from "./client.js";

export interface BillScope {
  subscriptionId: string;
  resourceGroup: string;
}

export interface BillSource {
  /** USD per resource id (lower case) for the UTC days `fromDay`..`toDay` (YYYY-MM-DD, inclusive). */
  costsByResource(scope: BillScope, fromDay: string, toDay: string): Promise<Map<string, number>>;
}

/** The container group's resource id as Cost Management reports it (lower case). */
export function billedResourceId(scope: BillScope, groupName: string): string {
  return `/subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroup}/providers/microsoft.containerinstance/containergroups/${groupName}`.toLowerCase();
}

export function createCostClient(options: { endpoint?: string; credential?: TokenCredential; emulatorToken?: string }): CostManagementClient {
  if (options.endpoint?.toLowerCase().startsWith("http://")) {
    // The emulator: no identity to check, as for the ACI client.
    const client = new CostManagementClient(options.credential ?? { getToken: async () => ({ token: "emulator", expiresOnTimestamp: Date.now() + 3_600_000 }) }, {
      endpoint: options.endpoint,
      allowInsecureConnection: true,
    });
    useEmulatorAuth(client.pipeline, options.emulatorToken);
    return client;
  }
  return new CostManagementClient(options.credential ?? new DefaultAzureCredential(), options.endpoint ? { endpoint: options.endpoint } : {});
}

export class CostManagementBills implements BillSource {
  constructor(private readonly client: CostManagementClient) {}

  async costsByResource(scope: BillScope, fromDay: string, toDay: string): Promise<Map<string, number>> {
    const query: QueryDefinition = {
      type: "ActualCost",
      timeframe: "Custom",
      timePeriod: { from: new Date(`${fromDay}T00:00:00Z`), to: new Date(`${toDay}T23:59:59Z`) },
      dataset: {
        granularity: "Daily",
        aggregation: { totalCost: { name: "Cost", function: "Sum" } },
        grouping: [{ type: "Dimension", name: "ResourceId" }],
      },
    };
    const out = new Map<string, number>();
    let page: QueryResult = await this.client.query.usage(`subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`, query);
    for (;;) {
      const columns = (page.columns ?? []).map((c) => c.name);
      const cost = columns.findIndex((c) => c === "Cost" || c === "PreTaxCost" || c === "CostUSD");
      const id = columns.indexOf("ResourceId");
      if (cost < 0 || id < 0) throw new Error(`Cost Management answered without Cost and ResourceId columns (got ${columns.join(", ")})`);
      for (const row of page.rows ?? []) {
        const key = String(row[id]).toLowerCase();
        out.set(key, (out.get(key) ?? 0) + Number(row[cost]));
      }
      if (!page.nextLink) return out;
      page = await this.#next(page.nextLink, query);
    }
  }

  /** The client has no call for a next page: Cost Management wants the same body POSTed to nextLink. */
  async #next(nextLink: string, query: QueryDefinition): Promise<QueryResult> {
    const body = JSON.stringify({ ...query, timePeriod: { from: query.timePeriod!.from.toISOString(), to: query.timePeriod!.to.toISOString() } });
    const response = await this.client.sendRequest(createPipelineRequest({ url: nextLink, method: "POST", body, headers: createHttpHeaders({ "content-type": "application/json" }), allowInsecureConnection: nextLink.startsWith("http://") }));
    if (response.status !== 200) throw new Error(`Cost Management answered ${response.status} for the next page: ${response.bodyAsText?.slice(0, 300)}`);
    const parsed = JSON.parse(response.bodyAsText ?? "{}") as { properties?: QueryResult };
    return parsed.properties ?? {};
  }
}
