/** The benchmark's command line: `npm run bench -- [flags]`. */
import { parseArgs } from "node:util";

export interface BenchOptions {
  jobs: number;
  cap: number;
  seed: number;
  medianSeconds: number;
  sigma: number;
  pullDelayMs: number;
  pullJitterMs: number;
  startDelayMs: number;
  /** Burst, then the baseline, instead of both at once. */
  sequential: boolean;
  /** Burst's pool reports exits from the containers (notifyExit), with polling only as the safety net. */
  notifyExit: boolean;
  scale: boolean;
  /** The cost run: Burst alone once per container-events mode, with the true-up. */
  cost: boolean;
  costJobs: number;
  /** The array run: what submitting one array of `arrayCount` children costs (arraySubmit.ts). */
  array: boolean;
  arrayCount: number;
  /** What Burst is told of run times: nothing, or each job's planned duration as expectedSeconds. */
  durations: "none" | "hinted" | "learned";
  /** The pool's order within a priority (Burst's default when unset). */
  order?: "fifo" | "longest-first" | "shortest-first";
  /** The budget-blocked run instead (budgetBlocked.ts): Burst alone, with and without backfill. */
  budgetBlocked: boolean;
  scaleSizes: number[];
  scaleCap: number;
  /** How Burst's specs arrive: on the jobs queue (as base64 JSON), or `POST /api/jobs`. */
  submit: "queue" | "http";
  /** Run the KEDA-like peer (keda.ts) beside the naive loop, against its own emulator. */
  keda: boolean;
  kedaPollSeconds: number;
  /** Write a V8 CPU profile of Burst's host into this folder (node --cpu-prof), to see where its CPU goes. */
  hostCpuProfDir?: string;
  /** The same for Azurite, the stand-in for Storage, to see where its work per job goes. */
  azuriteCpuProfDir?: string;
  /** The regions run: one pool over 10 placements with live quotas and windows, and a 2-region outage (regions.ts). */
  regions: boolean;
  regionsJobs: number;
  regionsCap: number;
  /** How long the outage lasts; it starts once half the jobs have been created. */
  regionsOutageSeconds: number;
  outDir: string;
  /** Write results and chart (off in the harness test's tiny runs unless asked). */
  write: boolean;
  quiet: boolean;
}

export const DEFAULTS: BenchOptions = {
  jobs: 200,
  cap: 40,
  seed: 1,
  medianSeconds: 15,
  sigma: 0.6,
  pullDelayMs: 2000,
  pullJitterMs: 4000,
  startDelayMs: 500,
  sequential: false,
  notifyExit: false,
  scale: false,
  cost: false,
  costJobs: 60,
  array: false,
  arrayCount: 10_000,
  durations: "none",
  budgetBlocked: false,
  scaleSizes: [200, 1000, 5000],
  scaleCap: 50,
  submit: "queue",
  keda: true,
  kedaPollSeconds: 30,
  regions: false,
  regionsJobs: 2000,
  regionsCap: 1000,
  regionsOutageSeconds: 300,
  outDir: "bench/results",
  write: true,
  quiet: false,
};

export const HELP = `Usage: npm run bench -- [options]

Runs Burst (queue → local Functions host → ACI emulator) and a naive p-limit dispatcher
on the same seeded workload, both at once against identical emulators, and compares them
with the ideal makespan. Prints a table; writes bench/results/<date>.json and a busy-slot
chart (<date>-slots.svg).

Workload
  --jobs N              jobs (default ${DEFAULTS.jobs})
  --cap C               pool cap / p-limit concurrency (default ${DEFAULTS.cap})
  --seed S              seed of durations and provisioning delays (default ${DEFAULTS.seed})
  --median S            median job duration, seconds (default ${DEFAULTS.medianSeconds})
  --sigma X             lognormal sigma of durations (default ${DEFAULTS.sigma})
  --pull-ms N           image pull per group, ms (default ${DEFAULTS.pullDelayMs})
  --pull-jitter-ms N    plus a seeded uniform extra in [0, N) per group (default ${DEFAULTS.pullJitterMs})
  --start-ms N          pulled → started, ms (default ${DEFAULTS.startDelayMs})

Durations and order
  --durations none|hinted|learned
                        what Burst is told of run times: nothing (default), each
                        job's planned duration as expectedSeconds, or nothing but what
                        it learned from a first, unmeasured pass of the same workload
  --order fifo|longest-first|shortest-first
                        the pool's order within a priority (default: Burst's, longest-first)

Peers and submission
  --submit queue|http   how Burst's specs arrive: on the jobs queue (default) or POST /api/jobs
  --no-keda             leave out the KEDA-like peer (polls the queue length every --keda-poll s)
  --keda-poll S         the KEDA-like peer's pollingInterval, seconds (default ${DEFAULTS.kedaPollSeconds})

  --host-cpu-prof DIR   write a CPU profile of Burst's host there (node --cpu-prof; open it in Chrome DevTools)
  --azurite-cpu-prof DIR  write a CPU profile of Azurite (Burst's storage) there, the same way

Modes
  --workload budget-blocked
                        budget-blocked run instead: Burst alone, once with backfill and once
                        without; a big job waits for money a running job holds while small
                        jobs queue behind it (see bench/README.md)
  --sequential          run Burst, then the baseline (about twice as long)
  --notify-exit         Burst's pool sets notifyExit: containers report their exit (also for --scale)
  --scale               scaling run instead: Burst alone at N = 200, 1,000, 5,000 with 1–2 s jobs
  --scale-sizes A,B,C   sizes of the scaling run (default ${DEFAULTS.scaleSizes.join(",")})
  --scale-cap C         pool cap of the scaling run (default ${DEFAULTS.scaleCap})
  --cost                cost run instead: Burst alone with container events present, absent
                        and late; each attempt's cost against the meter, then the true-up
                        from the emulator's Cost Management query against the meter
  --cost-jobs N         jobs per mode of the cost run (default ${DEFAULTS.costJobs}; cap from --cap)
  --array               array run instead: submit one array and make all its children, counting
                        the time to the first child's PUT, storage requests and CPU per child
  --array-count N       children of the array run (default ${DEFAULTS.arrayCount}; cap from --cap)
  --regions             regions run instead: Burst alone, one pool over 10 placements (5 subscriptions,
                        2 regions each) with ACI's live quotas and create windows, and a capacity
                        outage in 2 regions once half the jobs are created
  --regions-jobs N      jobs of the regions run (default ${DEFAULTS.regionsJobs})
  --regions-cap C       pool cap of the regions run (default ${DEFAULTS.regionsCap})
  --regions-outage-s S  how long the regions run's outage lasts (default ${DEFAULTS.regionsOutageSeconds})

Output
  --out DIR             results folder (default ${DEFAULTS.outDir})
  --no-write            print only
  -h, --help            show this help
`;

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseOptions(argv: string[]): BenchOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        jobs: { type: "string" }, cap: { type: "string" }, seed: { type: "string" },
        median: { type: "string" }, sigma: { type: "string" },
        "pull-ms": { type: "string" }, "pull-jitter-ms": { type: "string" }, "start-ms": { type: "string" },
        sequential: { type: "boolean" }, "notify-exit": { type: "boolean" }, scale: { type: "boolean" }, cost: { type: "boolean" }, "cost-jobs": { type: "string" },
        array: { type: "boolean" }, "array-count": { type: "string" },
        durations: { type: "string" }, order: { type: "string" }, workload: { type: "string" },
        "scale-sizes": { type: "string" }, "scale-cap": { type: "string" },
        regions: { type: "boolean" }, "regions-jobs": { type: "string" }, "regions-cap": { type: "string" }, "regions-outage-s": { type: "string" },
        out: { type: "string" }, "no-write": { type: "boolean" },
        submit: { type: "string" }, "no-keda": { type: "boolean" }, "keda-poll": { type: "string" }, "host-cpu-prof": { type: "string" }, "azurite-cpu-prof": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (values.help) return "help";
  const num = (flag: string, fallback: number, check: (n: number) => boolean, what: string): number => {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${flag}: expected ${what}, got '${raw}'`);
    return n;
  };
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  const cap = num("cap", DEFAULTS.cap, (n) => whole(n) && n <= 1000, "a whole number 1–1000 (a pool's maxConcurrency)");
  const sizes = ((values["scale-sizes"] as string | undefined) ?? DEFAULTS.scaleSizes.join(",")).split(",").map((s) => Number(s.trim()));
  const submit = (values.submit as string | undefined) ?? DEFAULTS.submit;
  if (submit !== "queue" && submit !== "http") throw new UsageError(`--submit: expected queue or http, got '${submit}'`);
  if (sizes.some((n) => !whole(n))) throw new UsageError(`--scale-sizes: expected whole numbers separated by commas, got '${values["scale-sizes"]}'`);
  const oneOf = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag}: expected one of ${allowed.join(", ")}, got '${raw}'`);
    return raw as T;
  };
  return {
    durations: oneOf("durations", ["none", "hinted", "learned"] as const) ?? DEFAULTS.durations,
    order: oneOf("order", ["fifo", "longest-first", "shortest-first"] as const),
    budgetBlocked: oneOf("workload", ["budget-blocked"] as const) === "budget-blocked",
    jobs: num("jobs", DEFAULTS.jobs, whole, "a whole number ≥ 1"),
    cap,
    seed: num("seed", DEFAULTS.seed, Number.isInteger, "an integer"),
    medianSeconds: num("median", DEFAULTS.medianSeconds, (n) => n > 0, "seconds > 0"),
    sigma: num("sigma", DEFAULTS.sigma, (n) => n >= 0, "a number ≥ 0"),
    pullDelayMs: num("pull-ms", DEFAULTS.pullDelayMs, (n) => n >= 0, "milliseconds ≥ 0"),
    pullJitterMs: num("pull-jitter-ms", DEFAULTS.pullJitterMs, (n) => n >= 0, "milliseconds ≥ 0"),
    startDelayMs: num("start-ms", DEFAULTS.startDelayMs, (n) => n >= 0, "milliseconds ≥ 0"),
    sequential: Boolean(values.sequential),
    notifyExit: Boolean(values["notify-exit"]),
    scale: Boolean(values.scale),
    cost: Boolean(values.cost),
    costJobs: num("cost-jobs", DEFAULTS.costJobs, whole, "a whole number ≥ 1"),
    array: Boolean(values.array),
    arrayCount: num("array-count", DEFAULTS.arrayCount, (n) => whole(n) && n <= 10_000, "a whole number 1–10000"),
    scaleSizes: sizes,
    scaleCap: num("scale-cap", DEFAULTS.scaleCap, (n) => whole(n) && n <= 1000, "a whole number 1–1000"),
    submit,
    keda: !values["no-keda"],
    kedaPollSeconds: num("keda-poll", DEFAULTS.kedaPollSeconds, (n) => n > 0, "seconds > 0"),
    hostCpuProfDir: values["host-cpu-prof"] as string | undefined,
    azuriteCpuProfDir: values["azurite-cpu-prof"] as string | undefined,
    regions: Boolean(values.regions),
    regionsJobs: num("regions-jobs", DEFAULTS.regionsJobs, whole, "a whole number ≥ 1"),
    regionsCap: num("regions-cap", DEFAULTS.regionsCap, (n) => whole(n) && n <= 1000, "a whole number 1–1000 (a pool's maxConcurrency)"),
    regionsOutageSeconds: num("regions-outage-s", DEFAULTS.regionsOutageSeconds, (n) => n >= 0, "seconds ≥ 0"),
    outDir: (values.out as string | undefined) ?? DEFAULTS.outDir,
    write: !values["no-write"],
    quiet: false,
  };
}
