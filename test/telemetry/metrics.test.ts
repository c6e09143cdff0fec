import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type MetricData,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { buildDeps } from "../../src/composition.js";
import { submitJob } from "../../src/scheduler/submit.js";
import { poll } from "../../src/scheduler/flow.js";
import { reconcile } from "../../src/scheduler/reconcile.js";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { lineEntry } from "../../src/scheduler/lineEntry.js";
import { Telemetry } from "../../src/telemetry/telemetry.js";
import { jobTraceContext } from "../../src/telemetry/jobTrace.js";
import type { JobRecord } from "../../src/model.js";
import type { Deps } from "../../src/scheduler/deps.js";
import { quietLog, startStack, type Stack } from "../support/harness.js";

/** One "process": its own telemetry, read on demand from in-memory exporters. */
function instrumented(stack: Stack) {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const spans = new InMemorySpanExporter();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const telemetry = new Telemetry(meterProvider.getMeter("burst"), tracerProvider.getTracer("burst"));
  const deps = buildDeps(stack.deps.config, quietLog, { telemetry });
  return {
    deps,
    spans,
    /** Every metric exported so far, by name. */
    async read(): Promise<Map<string, MetricData>> {
      await reader.forceFlush();
      const out = new Map<string, MetricData>();
      for (const rm of metrics.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
      return out;
    },
  };
}

const points = (m: MetricData | undefined) => (m?.dataPoints ?? []) as DataPoint<unknown>[];
const labelled = (m: MetricData | undefined, labels: Record<string, string>) =>
  points(m).filter((p) => Object.entries(labels).every(([k, v]) => p.attributes[k] === v));
const total = (m: MetricData | undefined, labels: Record<string, string>) =>
  labelled(m, labels).reduce((s, p) => s + (typeof p.value === "number" ? p.value : (p.value as { count: number }).count), 0);

/** The scheduler's steps, run in this process against Azurite and the ACI emulator (no host takes the messages). */
describe("telemetry of a job's run", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      hosts: 0,
      pools: {
        default: { maxConcurrency: 5, resourceGroup: `rg-otel-${Date.now()}` },
        busy: { maxConcurrency: 2, resourceGroup: `rg-otel-busy-${Date.now()}`, budget: { dailyUsd: 5 } },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function runToEnd(deps: Deps, id: string): Promise<JobRecord> {
    for (let i = 0; i < 300; i++) {
      const job = (await deps.jobs.get(id))!.value;
      if (job.state === "Succeeded" || job.state === "Failed") return job;
      if (job.state === "Running") await poll(deps, { jobId: id, attempt: job.attempts.at(-1)!.n, seq: job.monitorSeq });
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} did not end`);
  }

  it("measures transitions, admission wait, start stages, exit detection and ARM calls, labelled by pool, never by job", async () => {
    const t = instrumented(stack);
    const { job } = await submitJob(t.deps, { image: "alpine", command: ["echo", "hi"], timeoutSeconds: 60 });
    const ended = await runToEnd(t.deps, job.id);
    expect(ended.state).toBe("Succeeded");
    const m = await t.read();

    expect(total(m.get("burst.job.transitions"), { pool: "default", from: "Waiting", state: "Admitted" })).toBe(1);
    expect(total(m.get("burst.job.transitions"), { pool: "default", from: "Finishing", state: "Succeeded" })).toBe(1);
    expect(total(m.get("burst.admission.wait"), { pool: "default" })).toBe(1);
    // From the PUT to running: through the pull when the pull was seen, else in one stage.
    const pulled = ended.attempts[0]!.pullStartedAt !== undefined;
    const stages = pulled ? ["admitted-put", "put-pull", "pull-running"] : ["admitted-put", "put-running"];
    expect(
      labelled(m.get("burst.start.latency"), { pool: "default" })
        .map((p) => p.attributes.stage)
        .sort(),
    ).toEqual(stages.sort());
    expect(total(m.get("burst.exit.detection"), { pool: "default" })).toBe(1);
    expect(total(m.get("burst.arm.calls"), { kind: "PUT containerGroups", status: "2xx" })).toBeGreaterThanOrEqual(1);
    expect(total(m.get("burst.arm.calls"), { kind: "DELETE containerGroups" })).toBeGreaterThanOrEqual(1);

    const labels = [...m.values()].flatMap((metric) => points(metric).map((p) => p.attributes));
    expect(labels.length).toBeGreaterThan(10);
    for (const a of labels) {
      expect(
        Object.keys(a).every((k) => ["pool", "state", "from", "reason", "kind", "status", "window", "stage", "queue"].includes(k)),
        JSON.stringify(a),
      ).toBe(true);
      expect(JSON.stringify(a)).not.toContain(job.id);
    }
  });

  it("counts ARM calls answered 429 by kind", async () => {
    const t = instrumented(stack);
    stack.emulator.setFaults({ throttleStorm: { durationMs: 1500, retryAfterSeconds: 1 } });
    try {
      // The SDK's retry policy sleeps through the storm; each throttled try is counted.
      for await (const _ of t.deps.aci.list(
        stack.deps.config.pools.get("default")!.subscriptionId,
        stack.deps.config.pools.get("default")!.resourceGroup,
      ))
        void _;
    } catch {
      // a storm longer than the retries is fine too: the 429s were answered either way
    } finally {
      stack.emulator.setFaults({});
    }
    const m = await t.read();
    expect(total(m.get("burst.arm.throttled"), { kind: "GET containerGroups" })).toBeGreaterThanOrEqual(1);
    expect(total(m.get("burst.arm.calls"), { kind: "GET containerGroups", status: "4xx" })).toBeGreaterThanOrEqual(1);
  });

  it("has the reconciler report jobs by state, waiting jobs by reason, budget spent and limit, and poison depth", async () => {
    const t = instrumented(stack);
    // Two long jobs fill both slots; the third waits for a slot.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await submitJob(t.deps, { image: "alpine", command: ["sleep", "30"], timeoutSeconds: 60, pool: "busy" })).job.id);
    // Lost from its pool's line (as if a crash came between two writes): the reconciler puts it back.
    const lost = (await t.deps.jobs.get(ids[2]!))!.value;
    expect(lost.state).toBe("Waiting");
    expect(await t.deps.ledger.removeWaiting("busy", lineEntry({ ...lost, spec: lost.spec! }, t.deps.config.pools.get("busy")!).key)).toBe(
      true,
    );
    expect((await reconcile(t.deps)).requeued).toBe(1);
    const m = await t.read();
    expect(total(m.get("burst.reconciler.repairs"), { kind: "requeued" })).toBe(1);
    expect(total(m.get("burst.jobs.waiting"), { pool: "busy", reason: "slot" })).toBe(1);
    expect(total(m.get("burst.jobs"), { pool: "busy", state: "Waiting" })).toBe(1);
    expect(
      labelled(m.get("burst.jobs"), { pool: "busy" })
        .map((p) => p.attributes.state)
        .sort(),
    ).toEqual(["Admitted", "Finishing", "Launching", "Running", "Waiting"]);
    expect(total(m.get("burst.budget.limit"), { pool: "busy", window: "day" })).toBe(5);
    expect(labelled(m.get("burst.budget.limit"), { pool: "busy", window: "month" })).toEqual([]);
    expect(labelled(m.get("burst.budget.spent"), { pool: "busy", window: "month" })).toHaveLength(1);
    expect(labelled(m.get("burst.poison.depth"), { queue: "jobs" })).toHaveLength(1);
    for (const id of ids) await cancelJob(t.deps, id);
  });

  it("puts a job's spans from different processes into one trace, derived from its job id", async () => {
    const submitter = instrumented(stack);
    const runner = instrumented(stack);
    const { job } = await submitJob(submitter.deps, { image: "alpine", command: ["echo", "hi"], timeoutSeconds: 60, pool: "default" });
    // submitJob admits and launches inline; another process (another invocation, maybe
    // another instance) polls it to its end, as the monitor's queue messages would.
    await runToEnd(runner.deps, job.id);

    const root = jobTraceContext(job.id);
    const mine = (e: InMemorySpanExporter) => e.getFinishedSpans().filter((s) => s.attributes["burst.job.id"] === job.id);
    const first = mine(submitter.spans);
    const rest = mine(runner.spans);
    expect(first.map((s) => s.name)).toContain("burst.job.submit");
    expect(rest.map((s) => s.name)).toEqual(expect.arrayContaining(["burst.job.Running", "burst.job.Finishing", "burst.job"]));
    expect(new Set([...first, ...rest].map((s) => s.name))).toEqual(
      new Set([
        "burst.job.submit",
        "burst.job.Waiting",
        "burst.job.Admitted",
        "burst.job.Launching",
        "burst.job.Running",
        "burst.job.Finishing",
        "burst.job",
      ]),
    );
    for (const s of [...first, ...rest]) {
      expect(s.spanContext().traceId).toBe(root.traceId);
      expect(s.parentSpanContext?.spanId).toBe(root.spanId);
    }
    const whole = rest.find((s) => s.name === "burst.job")!;
    expect(whole.attributes["burst.state"]).toBe("Succeeded");
  });
});
