import { describe, expect, it } from "vitest";
import { jsonLogger, logLine, logTransitions, type Level } from "../../src/telemetry/logger.js";
import { metrics, trace } from "@opentelemetry/api";
import { startTelemetry, telemetryMode } from "../../src/telemetry/setup.js";
import { createJob, newJobEvents } from "../../src/jobState.js";
import type { JobRecord } from "../../src/model.js";

describe("structured logs", () => {
  it("writes one JSON object per line, with the job id and step the sentence names", () => {
    const line = JSON.parse(logLine("warn", "reconcile: job jmx1abc-00003: stuck in Admitted", {}, new Date("2026-01-02T03:04:05Z")));
    expect(line).toEqual({
      time: "2026-01-02T03:04:05.000Z",
      level: "warn",
      message: "reconcile: job jmx1abc-00003: stuck in Admitted",
      jobId: "jmx1abc-00003",
      step: "reconcile",
    });
  });

  it("keeps the fields a caller gives over what the sentence suggests", () => {
    const line = JSON.parse(logLine("info", "launch: job jaaa: done", { jobId: "jbbb", attempt: 2, pool: "gpu", step: "launch" }));
    expect(line).toMatchObject({ jobId: "jbbb", attempt: 2, pool: "gpu", step: "launch" });
  });

  it("logs every transition with its job, attempt, pool and the state entered", async () => {
    const lines: [Level, string][] = [];
    const events = newJobEvents();
    events.on(logTransitions(jsonLogger((level, line) => lines.push([level, line]))));
    // A job store of one record, enough for createJob and changeJob.
    let stored: JobRecord | undefined;
    const jobs = {
      create: async (j: JobRecord) => ((stored = j), true),
      get: async () => (stored ? { value: stored, etag: "1" } : undefined),
      replace: async (j: JobRecord) => ((stored = j), true),
    } as never;
    const w = { jobs, events, clock: { now: () => new Date("2026-01-01T00:00:00Z") } };
    await createJob(w, "Waiting", { id: "jlog1", pool: "gpu", attempts: [] } as Partial<JobRecord> & { id: string });
    expect(lines.map(([level, l]) => [level, JSON.parse(l)])).toEqual([
      [
        "info",
        { time: expect.any(String), level: "info", message: "job jlog1: New → Waiting", jobId: "jlog1", pool: "gpu", step: "Waiting" },
      ],
    ]);
  });
});

describe("the telemetry setting", () => {
  it("is off unless an exporter is configured", () => {
    expect(telemetryMode({})).toBe("off");
    expect(telemetryMode({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("otlp");
    expect(telemetryMode({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" })).toBe("azure-monitor");
    expect(telemetryMode({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x", BURST_TELEMETRY: "off" })).toBe("off");
    expect(telemetryMode({ BURST_TELEMETRY: "console" })).toBe("console");
  });

  it("refuses an unknown mode, quoting it, and Azure Monitor without its connection string", () => {
    expect(() => telemetryMode({ BURST_TELEMETRY: "prometheus" })).toThrow(
      'BURST_TELEMETRY must be one of off, console, otlp, azure-monitor; got "prometheus"',
    );
    expect(() => telemetryMode({ BURST_TELEMETRY: "azure-monitor" })).toThrow("APPLICATIONINSIGHTS_CONNECTION_STRING is not set");
  });

  it("registers the SDK's meter and tracer providers globally when asked, before any instrument is made", () => {
    const said: string[] = [];
    const log = jsonLogger((_, line) => said.push(line));
    expect(metrics.getMeterProvider().constructor.name).not.toBe("MeterProvider");
    expect(startTelemetry({ BURST_TELEMETRY: "console" }, log)).toBe("console");
    expect(metrics.getMeterProvider().constructor.name).toBe("MeterProvider");
    expect((trace.getTracerProvider() as unknown as { getDelegate(): object }).getDelegate().constructor.name).toBe("BasicTracerProvider");
    expect(JSON.parse(said[0]!)).toMatchObject({
      level: "info",
      step: "telemetry",
      message: "telemetry: metrics and traces go to console",
    });
  });
});
