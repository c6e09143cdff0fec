/**
 * The true-up: Burst's cost per attempt is an estimate, an upper bound when ACI shows no
 * pull event (see pricing.ts billingStart). Azure's real charge per container group shows
 * up in Cost Management hours later. The reconciler reads it here, at most once every
 * `bills.checkSeconds` per pool across instances, for every settled attempt whose bill is
 * still open, and records it on the attempt and in the ledger, where the budget windows
 * then count the larger of the estimate and the bill. A bill is final once its attempt
 * settled `bills.finalSeconds` ago; an attempt Cost Management never reported by then
 * (it never reached ACI) is billed $0.
 *
 * Safe to repeat and to run on many instances at once: the claim is ETag-guarded, and
 * recording the same bill twice changes nothing.
 */
import { sendBudgetEvents } from "../events/poolEvents.js";
import { billedResourceId } from "../aci/bills.js";
import { roundUsd } from "../pricing.js";
import { changeJob } from "../jobState.js";
import type { CostRow } from "../store/ledgerStore.js";
import { groupName } from "./ids.js";
import { groupScopes } from "./pools.js";
import type { Deps } from "./deps.js";

export interface TrueUpReport {
  /** Attempts whose bill was recorded (or updated) this time. */
  billsRecorded: number;
}

export async function trueUpBills(deps: Deps): Promise<TrueUpReport> {
  const report: TrueUpReport = { billsRecorded: 0 };
  const { bills } = deps.config;
  if (!bills.enabled) return report;
  const now = deps.clock.now();
  for (const pool of deps.config.pools.values()) {
    // The claim first: it is one point read, where finding the open bills scans the pool's cost rows.
    if (!(await deps.ledger.claimBillCheck(pool.name, now, bills.checkSeconds))) continue;
    const open: CostRow[] = [];
    for await (const r of deps.ledger.costRows(pool.name, { openBillsOnly: true })) open.push(r);
    if (open.length === 0) continue;
    const from = open.map((r) => r.day).sort()[0]!;
    // Each resource group the pool's placements use is read once; a group's name is unique per attempt across them.
    const charged: { scope: { subscriptionId: string; resourceGroup: string }; costs: Map<string, number> }[] = [];
    for (const scope of groupScopes(pool)) charged.push({ scope, costs: await deps.bills.costsByResource(scope, from, now.toISOString().slice(0, 10)) });
    for (const row of open) {
      const found = charged.map((c) => c.costs.get(billedResourceId(c.scope, groupName(row.jobId, row.attempt)))).find((x) => x !== undefined);
      const final = (now.getTime() - Date.parse(row.settledAt)) / 1000 >= bills.finalSeconds;
      if (found === undefined && !final) continue; // not reported yet
      const billedUsd = roundUsd(found ?? 0);
      if (row.billedUsd === billedUsd && !final) continue;
      await deps.ledger.recordBill(pool.name, row.jobId, row.attempt, billedUsd, final);
      await recordOnJob(deps, row.jobId, row.attempt, billedUsd, final);
      report.billsRecorded++;
    }
    // A bill above the estimate raises the windows' totals, which may cross a budget threshold.
    await sendBudgetEvents(deps, pool, now);
  }
  return report;
}

async function recordOnJob(deps: Deps, jobId: string, n: number, billedUsd: number, final: boolean): Promise<void> {
  await changeJob(deps, jobId, (job) => {
    const a = job.attempts.find((x) => x.n === n);
    if (!a || (a.billedUsd === billedUsd && a.billFinal === (final || undefined))) return undefined;
    const attempts = job.attempts.map((x) => (x.n === n ? { ...x, billedUsd, billFinal: final || undefined } : x));
    const billed = attempts.filter((x) => x.billedUsd !== undefined);
    return { ...job, attempts, billedUsd: roundUsd(billed.reduce((s, x) => s + x.billedUsd!, 0)) };
  });
}
