/**
 * The Cost Management Query API (`POST /{scope}/providers/Microsoft.CostManagement/query`,
 * api-version 2022-10-01, the version @azure/arm-costmanagement sends), answered from the
 * billing meter: what ACI charged each container group, per UTC day, the way Azure's bill
 * reports it hours later. Shapes follow Microsoft's examples for that version
 * (azure-rest-api-specs, cost-management 2022-10-01, *QueryGrouping.json): `properties`
 * holds `columns` [{name, type}] and `rows`, and a `nextLink` when there are more.
 *
 * The subset served is what a scheduler needs for a true-up: scope a subscription or a
 * resource group; `timeframe` Custom (with `timePeriod`) or MonthToDate; granularity
 * Daily or None; one Sum aggregation; grouping by ResourceId or nothing. Anything else
 * is refused with 400 naming what is not supported.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ArmError } from "./errors.js";
import type { MeteredGroup } from "./billing.js";
import type { CostSettings } from "./config.js";

export const COST_API_VERSION = "2022-10-01";
const DAY_MS = 86_400_000;

const queryBody = z.looseObject({
  type: z.enum(["ActualCost", "AmortizedCost", "Usage"]),
  timeframe: z.enum(["Custom", "MonthToDate"]),
  timePeriod: z.looseObject({ from: z.string(), to: z.string() }).optional(),
  dataset: z.looseObject({
    granularity: z.enum(["Daily", "None"]).optional(),
    aggregation: z.record(z.string(), z.looseObject({ name: z.enum(["Cost", "PreTaxCost", "CostUSD"]), function: z.literal("Sum") })),
    grouping: z.array(z.looseObject({ type: z.literal("Dimension"), name: z.literal("ResourceId") })).max(1).optional(),
  }),
});

const invalid = (detail: string) => new ArmError(400, "BadRequest", `Invalid query definition: ${detail} (the emulator serves a subset of the Query API; see the aci-emulator README)`);

export interface CostScope {
  subscriptionId: string;
  resourceGroup?: string;
}

/** A group's cost per UTC day (yyyymmdd) from its billing intervals that have ended and been reported. */
function dailyCosts(g: MeteredGroup, settings: CostSettings, now: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of g.billing) {
    if (i.end === undefined || i.end + settings.reportDelayMs > now) continue;
    const rate = i.cpu * settings.vcpuSecondUsd + i.memoryInGB * settings.gbSecondUsd;
    // Whole seconds, each interval rounded up as ACI bills; the rounding lands on the day the interval ended.
    const exact = Math.max(0, i.end - i.start) / 1000;
    let rest = Math.ceil(exact - 1e-9);
    for (let dayStart = Math.floor(i.start / DAY_MS) * DAY_MS; dayStart < i.end && rest > 0; dayStart += DAY_MS) {
      const last = dayStart + DAY_MS >= i.end;
      const seconds = last ? rest : Math.min(rest, (Math.min(i.end, dayStart + DAY_MS) - Math.max(i.start, dayStart)) / 1000);
      rest -= seconds;
      const key = Number(new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, ""));
      out.set(key, (out.get(key) ?? 0) + seconds * rate);
    }
  }
  return out;
}

function dayNumber(text: string, field: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalid(`${field} is not a date (got ${JSON.stringify(text)})`);
  return Number(new Date(ms).toISOString().slice(0, 10).replace(/-/g, ""));
}

/** `pageRows` rows per answer, then a `nextLink` (the emulator uses its list page size). */
export function answerCostQuery(ledger: readonly MeteredGroup[], scope: CostScope, body: unknown, settings: CostSettings, now: number, paging: { skip: number; rows: number; nextLink: (skip: number) => string }): Record<string, unknown> {
  const { skip, rows: pageRows, nextLink } = paging;
  const parsed = queryBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.join(".") || "(body)"}: ${issue.message}`);
  }
  const q = parsed.data;
  if ((q.dataset as Record<string, unknown>).filter !== undefined) throw invalid("dataset.filter is not supported; scope the query instead");
  const aggregations = Object.values(q.dataset.aggregation);
  if (aggregations.length !== 1) throw invalid("exactly one aggregation is supported");
  let from: number;
  let to: number;
  if (q.timeframe === "Custom") {
    if (!q.timePeriod) throw invalid("timePeriod is required for timeframe Custom");
    from = dayNumber(q.timePeriod.from, "timePeriod.from");
    to = dayNumber(q.timePeriod.to, "timePeriod.to");
  } else {
    const today = new Date(now).toISOString().slice(0, 10);
    from = Number(`${today.slice(0, 7).replace("-", "")}01`);
    to = Number(today.replace(/-/g, ""));
  }
  const daily = q.dataset.granularity === "Daily";
  const byResource = (q.dataset.grouping ?? []).length > 0;

  const sums = new Map<string, { cost: number; day?: number; resourceId?: string }>();
  for (const g of ledger) {
    if (g.ref.subscriptionId.toLowerCase() !== scope.subscriptionId.toLowerCase()) continue;
    if (scope.resourceGroup && g.ref.resourceGroup.toLowerCase() !== scope.resourceGroup.toLowerCase()) continue;
    // Cost Management reports resource ids in lower case.
    const resourceId = g.ref.id.toLowerCase();
    for (const [day, cost] of dailyCosts(g, settings, now)) {
      if (day < from || day > to) continue;
      const key = `${daily ? day : ""}|${byResource ? resourceId : ""}`;
      const s = sums.get(key) ?? { cost: 0, day: daily ? day : undefined, resourceId: byResource ? resourceId : undefined };
      s.cost += cost;
      sums.set(key, s);
    }
  }
  const rows = [...sums.values()]
    .sort((a, b) => (a.day ?? 0) - (b.day ?? 0) || (a.resourceId ?? "").localeCompare(b.resourceId ?? ""))
    .map((s) => [s.cost, ...(daily ? [s.day] : []), ...(byResource ? [s.resourceId] : []), "USD"]);
  const columns = [
    { name: aggregations[0]!.name, type: "Number" },
    ...(daily ? [{ name: "UsageDate", type: "Number" }] : []),
    ...(byResource ? [{ name: "ResourceId", type: "String" }] : []),
    { name: "Currency", type: "String" },
  ];
  const page = rows.slice(skip, skip + pageRows);
  const more = skip + page.length < rows.length;
  const id = `${scope.resourceGroup ? `subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}` : `subscriptions/${scope.subscriptionId}`}/providers/Microsoft.CostManagement/query/${randomUUID()}`;
  return {
    id,
    name: id.split("/").pop(),
    type: "Microsoft.CostManagement/query",
    properties: { nextLink: more ? nextLink(skip + page.length) : null, columns, rows: page },
  };
}
