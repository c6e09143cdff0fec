/**
 * The cost run (`npm run bench -- --cost`): Burst alone on one workload, once for each way
 * the live service shows container events (present, absent, late). For each it compares
 * every attempt's recorded cost with the emulator's billing meter, then trues the costs up
 * from the emulator's Cost Management query and compares the bill with the meter too.
 *
 * What must hold: with events, the estimate is within one billed second of the meter;
 * without them (absent, or late: not yet shown when the job ended), the estimate is never
 * below the meter; and after the true-up, the bill equals the meter.
 */
import { startBurst } from "./burstRun.js";
import { startEmulatorProcess, type EmulatorSetup } from "./emulatorProcess.js";
import { fifoMakespan } from "./ideal.js";
import { machine, type Machine } from "./machine.js";
import { metersByName } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { startStorage } from "./services.js";
import { BURST_RG, SUBSCRIPTION, type Log } from "./comparison.js";
import { planWorkload, type DurationModel } from "./workload.js";
import { DEFAULT_COSTS } from "@burst/aci-emulator";

export type EventsMode = "present" | "absent" | "late";
export const COST_MODES: EventsMode[] = ["present", "absent", "late"];
export const COST_MODEL: DurationModel = { kind: "lognormal", medianSeconds: 4, sigma: 0.6 };
export const COST_SCHEDULE_DELAY_MS = 5000;

export interface CostModeResult {
  mode: EventsMode;
  jobs: number;
  attempts: number;
  basis: Record<string, number>;
  /** Recorded billed seconds − meter billed seconds, per attempt. */
  estimateSecondsOver: { min: number; max: number; mean: number };
  /** Attempts whose estimate is below the meter (must be 0). */
  belowMeter: number;
  /** Attempts more than their stated error above the meter (must be 0). */
  overStatedError: number;
  estimateUsd: number;
  meterUsd: number;
  billedUsd: number;
  /** max |bill − meter| per attempt, USD. */
  billMaxAbsErrorUsd: number;
  wallSeconds: number;
}

export interface CostReport {
  kind: "cost";
  date: string;
  machine: Machine;
  jobs: number;
  cap: number;
  model: DurationModel;
  emulator: EmulatorSetup;
  modes: CostModeResult[];
  wallSeconds: number;
}

export async function runCostModes(options: BenchOptions, log: Log): Promise<CostReport> {
  const began = Date.now();
  const n = options.costJobs;
  const cap = Math.min(options.cap, n);
  // The live service took 4.0 s and 6.4 s from accepting the PUT to the Pulling event (azure-cli
  // 2023-05-01 and azure-sdk-for-net 2023-04-26 recordings): that is what an estimate without events cannot see.
  const base: EmulatorSetup = { pullDelayMs: options.pullDelayMs, pullJitterMs: options.pullJitterMs, startDelayMs: options.startDelayMs, seed: options.seed, limits: {}, costReportDelayMs: 1000, scheduleDelayMs: COST_SCHEDULE_DELAY_MS };
  const jobs = planWorkload(n, options.seed, COST_MODEL);
  const provisioning = (base.pullDelayMs + base.pullJitterMs + base.startDelayMs) / 1000;
  const timeoutMs = (5 * fifoMakespan(jobs.map((j) => j.durationSeconds + provisioning), cap) + 120) * 1000;
  const modes: CostModeResult[] = [];
  for (const mode of COST_MODES) {
    const modeBegan = Date.now();
    const setup: EmulatorSetup = { ...base, containerEvents: mode };
    const storage = await startStorage();
    const emulator = await startEmulatorProcess(setup);
    try {
      const burst = await startBurst({
        storageConnection: storage.connectionString, armEndpoint: emulator.url, cap, subscriptionId: SUBSCRIPTION, resourceGroup: BURST_RG,
        env: { BURST_BILL_CHECK_SECONDS: "0", BURST_BILL_FINAL_SECONDS: "5" },
      });
      try {
        log(`cost run: container events ${mode}, ${n} jobs, cap ${cap}…`);
        await burst.run(jobs, { timeoutMs, groupsDeleted: () => emulator.deletes() });
        const records = await burst.trueUp(120_000);
        const meters = metersByName(await emulator.stats(), BURST_RG);
        const rate = (b: { vcpuSeconds: number; gbSeconds: number }) => b.vcpuSeconds * DEFAULT_COSTS.vcpuSecondUsd + b.gbSeconds * DEFAULT_COSTS.gbSecondUsd;
        // One group per attempt name: sum its meters in case a name was ever created twice.
        const meterOf = (name: string) => (meters.get(name) ?? []).reduce((t, b) => ({ billedSeconds: t.billedSeconds + b.billedSeconds, vcpuSeconds: t.vcpuSeconds + b.vcpuSeconds, gbSeconds: t.gbSeconds + b.gbSeconds }), { billedSeconds: 0, vcpuSeconds: 0, gbSeconds: 0 });
        const attempts = records.flatMap((j) => j.attempts.map((a) => ({ a, meter: meterOf(a.group) })));
        const over = attempts.map(({ a, meter }) => (a.billedSeconds ?? 0) - meter.billedSeconds);
        const basis: Record<string, number> = {};
        for (const { a } of attempts) basis[a.costBasis ?? "none"] = (basis[a.costBasis ?? "none"] ?? 0) + 1;
        modes.push({
          mode,
          jobs: records.length,
          attempts: attempts.length,
          basis,
          estimateSecondsOver: { min: Math.min(...over), max: Math.max(...over), mean: over.reduce((s, x) => s + x, 0) / over.length },
          belowMeter: over.filter((x) => x < 0).length,
          overStatedError: attempts.filter(({ a }, i) => over[i]! > (a.costErrorSeconds ?? 0) + 1).length,
          estimateUsd: attempts.reduce((s, { a }) => s + (a.costUsd ?? 0), 0),
          meterUsd: attempts.reduce((s, { meter }) => s + rate(meter), 0),
          billedUsd: attempts.reduce((s, { a }) => s + (a.billedUsd ?? 0), 0),
          billMaxAbsErrorUsd: Math.max(...attempts.map(({ a, meter }) => Math.abs((a.billedUsd ?? 0) - rate(meter)))),
          wallSeconds: (Date.now() - modeBegan) / 1000,
        });
      } finally {
        await burst.stop();
      }
    } finally {
      await emulator.stop();
      await storage.stop();
    }
  }
  return { kind: "cost", date: new Date(began).toISOString(), machine: machine(), jobs: n, cap, model: COST_MODEL, emulator: base, modes, wallSeconds: (Date.now() - began) / 1000 };
}

/** The verdicts the cost run must meet, per mode. */
export function costVerdicts(r: CostReport): { target: string; measured: string; met: boolean }[] {
  return r.modes.flatMap((m) => {
    const withEvents = (m.basis["pull-event"] ?? 0) === m.attempts;
    const rows = [
      withEvents
        ? { target: `events ${m.mode}: estimate within 1 billed s of the meter`, measured: `estimate − meter: ${m.estimateSecondsOver.min}…${m.estimateSecondsOver.max} s`, met: m.estimateSecondsOver.min >= -1 && m.estimateSecondsOver.max <= 1 }
        : { target: `events ${m.mode}: estimate never below the meter, within its stated error`, measured: `${m.belowMeter} below, ${m.overStatedError} over their stated error; estimate − meter ${m.estimateSecondsOver.min}…${m.estimateSecondsOver.max} s (mean ${m.estimateSecondsOver.mean.toFixed(2)})`, met: m.belowMeter === 0 && m.overStatedError === 0 },
      { target: `events ${m.mode}: trued-up bill equals the meter`, measured: `max |bill − meter| $${m.billMaxAbsErrorUsd.toExponential(2)} per attempt; bill $${m.billedUsd.toFixed(6)}, meter $${m.meterUsd.toFixed(6)}`, met: m.billMaxAbsErrorUsd <= 1e-9 * 2 },
    ];
    return rows;
  });
}
