/**
 * Burst's metrics and traces, through the OpenTelemetry API only: which SDK and exporter
 * receive them is setup.ts's business (Azure Monitor, OTLP, the console, or nothing).
 *
 * What is measured comes from three places, so the scheduler's steps stay free of it:
 * the job state machine's transition events (jobState.ts, `attachJobTelemetry`), a policy
 * on the ARM client's pipeline (`armPolicy`), and the reconciler's periodic look at every
 * pool (`observePools`). Labels are low-cardinality on purpose — pool, state, reason,
 * kind, window, stage — and never a job id: a metric series per job would be unbounded
 * (README, Telemetry). Job ids belong on spans, which are per job anyway.
 */
import { metrics, trace, type Meter, type Tracer } from "@opentelemetry/api";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { JobEvents, TransitionEvent } from "../jobState.js";
import type { JobRecord, JobState } from "../model.js";
import { jobSpans } from "./jobTrace.js";

export const TELEMETRY_NAME = "burst";

/** Seconds between two ISO times, or undefined when either is missing or the order is wrong. */
function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

/** What the reconciler saw of one pool (counted from its scan and the pool's ledger). */
export interface PoolObservation {
  pool: string;
  jobs: Partial<Record<JobState, number>>;
  waiting: Record<string, number>;
  budget: { window: "day" | "month"; spentUsd: number; limitUsd?: number }[];
}

export class Telemetry {
  readonly tracer: Tracer;
  readonly #transitions;
  readonly #admissionWait;
  readonly #startLatency;
  readonly #exitDetection;
  readonly #armCalls;
  readonly #armThrottled;
  readonly #jobs;
  readonly #waiting;
  readonly #budgetSpent;
  readonly #budgetLimit;
  readonly #repairs;
  readonly #poison;

  constructor(meter: Meter = metrics.getMeter(TELEMETRY_NAME), tracer: Tracer = trace.getTracer(TELEMETRY_NAME)) {
    this.tracer = tracer;
    this.#transitions = meter.createCounter("burst.job.transitions", { description: "Job state changes written", unit: "{transition}" });
    this.#admissionWait = meter.createHistogram("burst.admission.wait", {
      description: "Time a job spent Waiting before it was admitted",
      unit: "s",
    });
    this.#startLatency = meter.createHistogram("burst.start.latency", {
      description: "An attempt's start, by stage: admitted-put, put-pull, pull-running (put-running when the pull was not seen)",
      unit: "s",
    });
    this.#exitDetection = meter.createHistogram("burst.exit.detection", {
      description: "From a container's exit to Burst noticing it",
      unit: "s",
    });
    this.#armCalls = meter.createCounter("burst.arm.calls", { description: "Calls to Azure Resource Manager (ACI)", unit: "{call}" });
    this.#armThrottled = meter.createCounter("burst.arm.throttled", { description: "ARM calls answered 429 (throttled)", unit: "{call}" });
    this.#jobs = meter.createGauge("burst.jobs", { description: "Jobs not yet ended, by state (the reconciler's count)", unit: "{job}" });
    this.#waiting = meter.createGauge("burst.jobs.waiting", {
      description: "Jobs not running yet, by waiting reason (the reconciler's count)",
      unit: "{job}",
    });
    this.#budgetSpent = meter.createGauge("burst.budget.spent", { description: "Spent in the pool's current budget window", unit: "USD" });
    this.#budgetLimit = meter.createGauge("burst.budget.limit", { description: "The pool's limit for the budget window", unit: "USD" });
    this.#repairs = meter.createCounter("burst.reconciler.repairs", { description: "Repairs the reconciler made", unit: "{repair}" });
    this.#poison = meter.createGauge("burst.poison.depth", { description: "Messages in a poison queue", unit: "{message}" });
  }

  /** Metrics of one written transition; `job` is the record as written. */
  transitioned(e: TransitionEvent, job: JobRecord | undefined): void {
    const pool = job?.pool ?? "unknown";
    this.#transitions.add(1, { pool, from: e.from, state: e.to });
    if (e.from === "Waiting" && e.to === "Admitted") {
      const wait = secondsBetween(e.since, e.at);
      if (wait !== undefined) this.#admissionWait.record(wait, { pool });
    }
    // An attempt's timings are complete once it ends (Running → Finishing).
    const attempt = job?.attempts.at(-1);
    if (e.from === "Running" && e.to === "Finishing" && attempt) {
      // launchedAt: the launch's first claim, right after admission. When the pull was not
      // seen (a short job can be over before the first poll), PUT → running is one stage.
      const stages: [string, string | undefined, string | undefined][] = attempt.pullStartedAt
        ? [
            ["admitted-put", attempt.launchedAt, attempt.acceptedAt],
            ["put-pull", attempt.acceptedAt, attempt.pullStartedAt],
            ["pull-running", attempt.pullStartedAt, attempt.startedAt],
          ]
        : [
            ["admitted-put", attempt.launchedAt, attempt.acceptedAt],
            ["put-running", attempt.acceptedAt, attempt.startedAt],
          ];
      for (const [stage, from, to] of stages) {
        const s = secondsBetween(from, to);
        if (s !== undefined) this.#startLatency.record(s, { pool, stage });
      }
      const detection = secondsBetween(attempt.finishedAt, attempt.detectedAt);
      if (detection !== undefined) this.#exitDetection.record(detection, { pool });
    }
  }

  /** One ARM call's answer; `kind` is its method and resource type (e.g. "PUT containerGroups"). */
  armCall(kind: string, status: number | undefined): void {
    this.#armCalls.add(1, { kind, status: status === undefined ? "error" : `${Math.floor(status / 100)}xx` });
    if (status === 429) this.#armThrottled.add(1, { kind });
  }

  /** The reconciler's look at a pool. */
  observePool(o: PoolObservation): void {
    for (const [state, n] of Object.entries(o.jobs)) this.#jobs.record(n, { pool: o.pool, state });
    for (const [reason, n] of Object.entries(o.waiting)) this.#waiting.record(n, { pool: o.pool, reason });
    for (const b of o.budget) {
      this.#budgetSpent.record(b.spentUsd, { pool: o.pool, window: b.window });
      if (b.limitUsd !== undefined) this.#budgetLimit.record(b.limitUsd, { pool: o.pool, window: b.window });
    }
  }

  /** The reconciler's repairs, by kind, and the poison queues' depths. */
  reconciled(repairs: Record<string, number>, poison: Record<string, number>): void {
    for (const [kind, n] of Object.entries(repairs)) if (n > 0) this.#repairs.add(n, { kind });
    for (const [queue, n] of Object.entries(poison)) this.#poison.record(n, { queue });
  }
}

/** Tells the telemetry every transition `events` carries: its metrics and its span in the job's trace. */
export function attachJobTelemetry(events: JobEvents, telemetry: Telemetry): () => void {
  const spans = jobSpans(telemetry.tracer);
  return events.on((e) => {
    telemetry.transitioned(e, e.job);
    spans(e);
  });
}

/**
 * The ARM call's kind for a label: its method and the last resource type in its path
 * (`PUT containerGroups`, `GET logs`, `GET operations`) — never a name or an id.
 */
export function armCallKind(method: string, url: string): string {
  const segments = new URL(url).pathname.split("/").map((s) => s.toLowerCase());
  for (const segment of segments.reverse()) {
    const known = ARM_KINDS.find((k) => k.toLowerCase() === segment);
    if (known) return `${method.toUpperCase()} ${known}`;
  }
  return `${method.toUpperCase()} other`;
}

const ARM_KINDS = [
  "containerGroups",
  "containers",
  "logs",
  "operations",
  "operationResults",
  "operationStatuses",
  "stop",
  "start",
  "restart",
  "query",
  "resourcegroups",
];

/** A pipeline policy counting ARM calls and 429s (a retried call counts each try). */
export function armPolicy(telemetry: Telemetry): PipelinePolicy {
  return {
    name: "burstArmTelemetry",
    async sendRequest(request, next) {
      const kind = armCallKind(request.method, request.url);
      try {
        const response = await next(request);
        telemetry.armCall(kind, response.status);
        return response;
      } catch (err) {
        telemetry.armCall(kind, (err as { statusCode?: number }).statusCode);
        throw err;
      }
    },
  };
}
