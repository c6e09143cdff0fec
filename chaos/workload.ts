/** The chaos workload: jobs whose expected output is known exactly, so log completeness can be checked. */
import { between } from "./rng.js";

export interface ChaosJob {
  index: number;
  pool: "east" | "west";
  lines: number;
  exitCode: number;
  spec: Record<string, unknown>;
  /** An array job: its number of children, each printing its own index. */
  arrayCount?: number;
}

export function makeJobs(count: number, seed: number, random: () => number, secret: string): ChaosJob[] {
  return Array.from({ length: count }, (_, index) => {
    const pool = index % 3 === 0 ? "west" : "east";
    const lines = Math.round(between(random, 5, 30));
    const exitCode = random() < 0.1 ? 2 : 0;
    const script = `echo start; for i in $(seq 1 ${lines}); do echo line $i; sleep 0.05; done; echo end; exit ${exitCode}`;
    return {
      index, pool, lines, exitCode,
      spec: {
        image: "alpine", command: ["sh", "-c", script], pool, cpu: 0.5, memoryGb: 0.5,
        timeoutSeconds: 600, retries: exitCode === 0 ? 0 : 1,
        idempotencyKey: `chaos-${seed}-${index}`, labels: { chaos: String(seed) },
        secureEnv: { CHAOS_SECRET: secret },
      },
    };
  });
}

/**
 * One array job, last in the workload: its children run while hosts die like any job, and
 * each must still end once, with its own index in its log.
 */
export function makeArrayJob(index: number, count: number, seed: number, secret: string): ChaosJob {
  const script = "echo start; echo index $BURST_ARRAY_INDEX of $BURST_ARRAY_SIZE; sleep 1; echo end";
  return {
    index, pool: "east", lines: 0, exitCode: 0, arrayCount: count,
    spec: {
      image: "alpine", command: ["sh", "-c", script], pool: "east", cpu: 0.5, memoryGb: 0.5, timeoutSeconds: 600,
      array: { count, parallelism: 4 }, idempotencyKey: `chaos-${seed}-${index}`, labels: { chaos: String(seed) },
      secureEnv: { CHAOS_SECRET: secret },
    },
  };
}

export function expectedChildLog(index: number, count: number): string[] {
  return ["start", `index ${index} of ${count}`, "end"];
}

export function expectedLog(job: ChaosJob): string[] {
  return ["start", ...Array.from({ length: job.lines }, (_, i) => `line ${i + 1}`), "end"];
}
