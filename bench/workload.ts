/**
 * The benchmark's workload: N jobs with seeded durations, each a sim-runtime shell script
 * that prints a few lines and sleeps. The same plan is fed to Burst and to the baseline.
 *
 * Durations are lognormal (median × e^(σ·Z)), the usual shape of batch job run times: most
 * jobs are near the median and a few run several times longer. σ is a documented input,
 * not a tuned one (see bench/README.md).
 */
import { createRng, type Rng } from "@burst/aci-emulator";

export type DurationModel =
  | { kind: "lognormal"; medianSeconds: number; sigma: number }
  | { kind: "uniform"; minSeconds: number; maxSeconds: number };

export interface JobPlan {
  index: number;
  /** Planned run time of the command (the sleep), seconds, to 0.1 s. */
  durationSeconds: number;
  /** The container's command: `sh -c "<script>"`, in the sim runtime's shell subset. */
  command: string[];
}

/** Standard normal draw (Box–Muller), from a seeded uniform source. */
function normal(rng: Rng): number {
  const u1 = Math.max(rng(), 1e-12);
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function drawDuration(model: DurationModel, rng: Rng): number {
  const raw = model.kind === "lognormal"
    ? model.medianSeconds * Math.exp(model.sigma * normal(rng))
    : model.minSeconds + (model.maxSeconds - model.minSeconds) * rng();
  // Tenths of a second keep the script readable; never zero, so every job really runs.
  return Math.max(0.1, Math.round(raw * 10) / 10);
}

export function scriptFor(index: number, seconds: number): string {
  return `echo job ${index} start; for i in $(seq 1 3); do echo job ${index} step $i; done; sleep ${seconds}; echo job ${index} done`;
}

export function planWorkload(jobs: number, seed: number, model: DurationModel): JobPlan[] {
  const rng = createRng(seed);
  return Array.from({ length: jobs }, (_, index) => {
    const durationSeconds = drawDuration(model, rng);
    return { index, durationSeconds, command: ["sh", "-c", scriptFor(index, durationSeconds)] };
  });
}

/** Output lines each job prints (start, three steps, done), to check logs arrived whole. */
export const LINES_PER_JOB = 5;

/** The resources every job asks for; small, as most batch jobs are. */
export const JOB_CPU = 1;
export const JOB_MEMORY_GB = 1.5;
export const JOB_IMAGE = "alpine";
