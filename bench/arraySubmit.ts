/**
 * `npm run bench -- --array`: what submitting one array of N children (default 10,000)
 * costs Burst. Burst's own code runs in this process against Azurite and an emulator
 * process (so their CPU is not counted): the submission makes the parent and its first
 * children and launches what the pool admits; then the array's expand step (array.ts) is
 * run over and over, as children's ends and the reconciler run it, until every child
 * exists. The array's parallelism is N, so only the step size (ARRAY_CHUNK) bounds a step.
 *
 * Measured: time from the submission to the first child's PUT to ARM; storage requests
 * per child (every HTTP request this process sends to Azurite, counted at node:http);
 * this process's CPU per child; the longest single step.
 */
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../src/config.js";
import { buildDeps } from "../src/composition.js";
import { submitJob } from "../src/scheduler/submit.js";
import { runAll } from "../src/scheduler/flow.js";
import { ARRAY_CHUNK } from "../src/scheduler/array.js";
import { startStorage } from "./services.js";
import { startEmulatorProcess } from "./emulatorProcess.js";
import type { BenchOptions } from "./options.js";

export interface ArraySubmitReport {
  children: number;
  cap: number;
  firstPutMs: number;
  /** Until every child exists and waits in the line (or was launched). */
  allCreatedMs: number;
  storageRequests: number;
  storageRequestsPerChild: number;
  byMethod: Record<string, number>;
  cpuMsPerChild: number;
  steps: number;
  longestStepMs: number;
}

const quiet = { info() {}, warn() {}, error() {} };

/** Counts this process's HTTP requests to storage, and notes the first PUT of a container group. */
function countRequests(storagePorts: Set<string>, onGroupPut: () => void) {
  const counts = { total: 0, byMethod: {} as Record<string, number> };
  const original = http.request;
  const patched = ((...args: Parameters<typeof http.request>) => {
    const req = original(...args);
    const port = String(req.getHeader("host") ?? "").split(":")[1] ?? "";
    if (storagePorts.has(port)) {
      counts.total++;
      counts.byMethod[req.method] = (counts.byMethod[req.method] ?? 0) + 1;
    } else if (req.method === "PUT" && req.path.includes("/containerGroups/")) onGroupPut();
    return req;
  }) as typeof http.request;
  http.request = patched;
  syncBuiltinESMExports();
  return {
    counts,
    restore: () => {
      http.request = original;
      syncBuiltinESMExports();
    },
  };
}

export async function runArraySubmit(options: BenchOptions, log: (line: string) => void): Promise<ArraySubmitReport> {
  const n = options.arrayCount;
  const storage = await startStorage();
  const emulator = await startEmulatorProcess({
    pullDelayMs: options.pullDelayMs,
    pullJitterMs: 0,
    startDelayMs: options.startDelayMs,
    seed: options.seed,
    limits: {},
  });
  try {
    const prefix = `ba${randomBytes(4).toString("hex")}`;
    const pools = { default: { maxConcurrency: options.cap, maxWaiting: 100_000, resourceGroup: `rg-${prefix}` } };
    const config = loadConfig({
      AzureWebJobsStorage: storage.connectionString,
      BURST_STORAGE_PREFIX: prefix,
      BURST_ARM_ENDPOINT: emulator.url,
      BURST_POOLS: JSON.stringify({ pools }),
      BURST_SECRET_KEY: randomBytes(32).toString("base64"),
      BURST_HOST_ID: `bench-${prefix}`,
    });
    const deps = buildDeps(config, quiet);
    const ports = new Set([...storage.connectionString.matchAll(/:(\d+)\//g)].map((m) => m[1]!));
    let firstPutAt: number | undefined;
    const counter = countRequests(ports, () => {
      firstPutAt ??= performance.now();
    });
    try {
      log(`array run: one array of ${n} children, pool cap ${options.cap}, step size ${ARRAY_CHUNK}`);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let longest = 0;
      let stepStart = performance.now();
      const { job } = await submitJob(deps, {
        image: "alpine",
        command: ["sh", "-c", "sleep 60"],
        timeoutSeconds: 600,
        array: { count: n, parallelism: n },
      });
      longest = performance.now() - stepStart;
      let steps = 1;
      for (;;) {
        const parent = (await deps.jobs.get(job.id))!.value;
        if (!parent.array || parent.array.created >= n) break;
        stepStart = performance.now();
        await runAll(deps, [{ step: "array", parentId: job.id }]);
        longest = Math.max(longest, performance.now() - stepStart);
        steps++;
        if (steps % 20 === 0) log(`  ${parent.array.created} children made`);
      }
      const allCreatedMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return {
        children: n,
        cap: options.cap,
        firstPutMs: Math.round((firstPutAt ?? NaN) - t0),
        allCreatedMs: Math.round(allCreatedMs),
        storageRequests: counter.counts.total,
        storageRequestsPerChild: Math.round((counter.counts.total / n) * 100) / 100,
        byMethod: counter.counts.byMethod,
        cpuMsPerChild: Math.round(((cpu.user + cpu.system) / 1000 / n) * 100) / 100,
        steps,
        longestStepMs: Math.round(longest),
      };
    } finally {
      counter.restore();
    }
  } finally {
    await emulator.stop();
    await storage.stop();
  }
}

export function printArraySubmit(r: ArraySubmitReport): string {
  return [
    `array of ${r.children} children (pool cap ${r.cap})`,
    `  first child's PUT        ${r.firstPutMs} ms after the submission began`,
    `  every child made          ${r.allCreatedMs} ms, in ${r.steps} steps (longest ${r.longestStepMs} ms)`,
    `  storage requests          ${r.storageRequests} (${r.storageRequestsPerChild} per child; ${Object.entries(r.byMethod)
      .map(([m, c]) => `${m} ${c}`)
      .join(", ")})`,
    `  CPU of this process       ${r.cpuMsPerChild} ms per child`,
  ].join("\n");
}
