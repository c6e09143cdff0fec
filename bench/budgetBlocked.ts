/**
 * The budget-blocked run (`--workload budget-blocked`): what EASY backfill gains, and that
 * it does not delay the job it goes past. Burst alone, twice on the same seeded workload —
 * once with the pool's backfill on, once off — at the same time (so the machine's noise
 * hits both alike), each with its own Azurite, emulator and host:
 * 1. a blocker job starts and reserves most of the day's budget (long timeout, short run);
 * 2. the head, whose worst case does not fit beside the blocker's reservation, waits;
 * 3. small jobs queue behind the head.
 * Without backfill the small jobs wait for the head; with it they run while the blocker
 * does. The head starts once the blocker settles (it spends far less than it reserved).
 * Reported per run: when the head started (from the blocker's end), when the small jobs
 * finished, and the makespan.
 */
import { startBurst, type BurstUnderTest } from "./burstRun.js";
import { SUBSCRIPTION, BURST_RG, scaledLimits, type Log } from "./comparison.js";
import { startEmulatorProcess, type EmulatorProcess } from "./emulatorProcess.js";
import { machine, type Machine } from "./machine.js";
import type { BenchOptions } from "./options.js";
import { startStorage } from "./services.js";
import { spread, type Spread } from "./stats.js";
import { JOB_CPU, JOB_IMAGE, JOB_MEMORY_GB, planWorkload, scriptFor, type JobPlan } from "./workload.js";
import { costPerSecond, BUILT_IN_PRICES } from "../src/pricing.js";
import { isFinal } from "../src/jobState.js";
import type { JobRecord } from "../src/model.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SLACK_SECONDS = 20;
const BLOCKER = { timeoutSeconds: 3000, runSeconds: 20 };
const HEAD = { timeoutSeconds: 2000, runSeconds: 10 };
const SMALL = { timeoutSeconds: 30 };
/** The blocker's and the head's worst cases together pass it by 20 s of run time: the head waits, with room for small jobs. */
const BUDGET_SECONDS = BLOCKER.timeoutSeconds + HEAD.timeoutSeconds + 2 * SLACK_SECONDS - 20;

export interface BackfillRun {
  backfill: boolean;
  /** Seconds from the first submission. */
  blockerEnded: number;
  headStarted: number;
  /** Head start − blocker end: how long the head waited once its money was back. */
  headWaitAfterBlocker: number;
  /** Small jobs' container start, and their finish. */
  smallStarted: Spread;
  smallDone: Spread;
  makespan: number;
  failed: number;
}

export interface BudgetBlockedReport {
  kind: "budget-blocked";
  date: string;
  machine: Machine;
  options: BenchOptions;
  workload: {
    smallJobs: number;
    cap: number;
    budgetUsd: number;
    blocker: typeof BLOCKER;
    head: typeof HEAD;
    small: typeof SMALL & { runSeconds: Spread };
  };
  runs: BackfillRun[];
}

export async function runBudgetBlocked(options: BenchOptions, log: Log): Promise<BudgetBlockedReport> {
  const began = Date.now();
  const rate = costPerSecond(JOB_CPU, JOB_MEMORY_GB, BUILT_IN_PRICES["eastus/Standard"]!);
  const budgetUsd = Math.round(rate * BUDGET_SECONDS * 1e9) / 1e9;
  const cap = Math.min(options.cap, 10);
  const small = planWorkload(Math.min(options.jobs, 40), options.seed, { kind: "uniform", minSeconds: 1, maxSeconds: 4 });
  // One Azurite (each host has its own storage prefix); emulators and hosts started one at a time, then both run at once.
  const storage = await startStorage();
  const started: { backfill: boolean; emulator: EmulatorProcess; burst: BurstUnderTest }[] = [];
  let runs: BackfillRun[];
  try {
    for (const backfill of [true, false]) {
      const limits = scaledLimits(small.length + 2, cap);
      const emulator = await startEmulatorProcess({
        pullDelayMs: options.pullDelayMs,
        pullJitterMs: 0,
        startDelayMs: options.startDelayMs,
        seed: options.seed,
        limits,
      });
      const burst = await startBurst({
        storageConnection: storage.connectionString,
        armEndpoint: emulator.url,
        cap,
        subscriptionId: SUBSCRIPTION,
        resourceGroup: BURST_RG,
        emulatorLimits: limits,
        pool: { budget: { dailyUsd: budgetUsd }, enforcementSlackSeconds: SLACK_SECONDS, backfill },
      }).catch(async (err: unknown) => {
        await emulator.stop();
        throw err;
      });
      started.push({ backfill, emulator, burst });
    }
    log(`budget-blocked run: cap ${cap}, ${small.length} small jobs, with and without backfill at once…`);
    runs = await Promise.all(started.map(({ backfill, burst }) => runOnce(burst, backfill, small)));
  } finally {
    for (const { emulator, burst } of started) {
      await burst.stop();
      await emulator.stop();
    }
    await storage.stop();
  }
  return {
    kind: "budget-blocked",
    date: new Date(began).toISOString(),
    machine: machine(),
    options,
    workload: {
      smallJobs: small.length,
      cap,
      budgetUsd,
      blocker: BLOCKER,
      head: HEAD,
      small: { ...SMALL, runSeconds: spread(small.map((p) => p.durationSeconds)) },
    },
    runs,
  };
}

async function runOnce(burst: BurstUnderTest, backfill: boolean, small: JobPlan[]): Promise<BackfillRun> {
  const spec = (name: string, seconds: number, timeoutSeconds: number) => ({
    name,
    image: JOB_IMAGE,
    command: ["sh", "-c", scriptFor(0, seconds)],
    cpu: JOB_CPU,
    memoryGb: JOB_MEMORY_GB,
    timeoutSeconds,
  });
  const t0 = Date.now();
  const blocker = await burst.submit(spec("blocker", BLOCKER.runSeconds, BLOCKER.timeoutSeconds));
  await until(burst.deps, [blocker], (j) => j.state === "Running");
  const head = await burst.submit(spec("head", HEAD.runSeconds, HEAD.timeoutSeconds));
  await until(burst.deps, [head], (j) => j.state === "Waiting");
  const smallIds = await Promise.all(small.map((p) => burst.submit(spec(`small-${p.index}`, p.durationSeconds, SMALL.timeoutSeconds))));
  const all = await until(burst.deps, [blocker, head, ...smallIds], (j) => isFinal(j.state), 600_000);
  const at = (iso: string | undefined) => (iso ? (Date.parse(iso) - t0) / 1000 : NaN);
  const [b, h, ...s] = all;
  return {
    backfill,
    blockerEnded: at(b!.finishedAt),
    headStarted: at(h!.startedAt),
    headWaitAfterBlocker: at(h!.startedAt) - at(b!.finishedAt),
    smallStarted: spread(s.map((j) => at(j.startedAt))),
    smallDone: spread(s.map((j) => at(j.finishedAt))),
    makespan: Math.max(...all.map((j) => at(j.finishedAt))),
    failed: all.filter((j) => j.state !== "Succeeded").length,
  };
}

/** Reads the jobs until each satisfies `done` (a bench driver polls; tests wait on events). */
async function until(
  deps: { jobs: { get(id: string): Promise<{ value: JobRecord } | undefined> } },
  ids: string[],
  done: (j: JobRecord) => boolean,
  timeoutMs = 120_000,
): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await Promise.all(ids.map(async (id) => (await deps.jobs.get(id))?.value));
    if (jobs.every((j) => j && done(j))) return jobs as JobRecord[];
    if (Date.now() > deadline)
      throw new Error(`jobs ${ids.join(", ")} not done within ${timeoutMs / 1000} s: ${jobs.map((j) => j?.state).join(", ")}`);
    await sleep(250);
  }
}
