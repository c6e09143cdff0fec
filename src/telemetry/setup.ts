/**
 * Where metrics and traces go, by setting (README, Telemetry):
 *
 * - `azure-monitor`: Application Insights, through @azure/monitor-opentelemetry, when
 *   APPLICATIONINSIGHTS_CONNECTION_STRING is set (the deploy template sets it);
 * - `otlp`: an OpenTelemetry collector at OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP);
 * - `console`: printed, for a look while developing;
 * - `off`: nothing (the API's no-op providers).
 *
 * BURST_TELEMETRY picks one; unset, Azure Monitor when its connection string is set, OTLP
 * when its endpoint is, else off — so tests and `npm start` export nothing unless asked.
 * The providers are registered globally and synchronously, before composition.ts makes
 * its instruments: OpenTelemetry's metrics API has no proxy, so a meter taken earlier
 * would stay a no-op.
 */
import { createRequire } from "node:module";
import { metrics, trace } from "@opentelemetry/api";
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import type { StructuredLogger } from "./logger.js";

export const TELEMETRY_MODES = ["off", "console", "otlp", "azure-monitor"] as const;
export type TelemetryMode = (typeof TELEMETRY_MODES)[number];

/** The mode the settings ask for; throws naming BURST_TELEMETRY and the bad value. */
export function telemetryMode(env: Record<string, string | undefined>): TelemetryMode {
  const asked = env.BURST_TELEMETRY?.trim();
  if (asked) {
    if (!(TELEMETRY_MODES as readonly string[]).includes(asked))
      throw new Error(`BURST_TELEMETRY must be one of ${TELEMETRY_MODES.join(", ")}; got "${asked}"`);
    if (asked === "azure-monitor" && !env.APPLICATIONINSIGHTS_CONNECTION_STRING)
      throw new Error(`BURST_TELEMETRY is "azure-monitor" but APPLICATIONINSIGHTS_CONNECTION_STRING is not set`);
    return asked as TelemetryMode;
  }
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING) return "azure-monitor";
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return "otlp";
  return "off";
}

/** How often metrics are exported (OTLP and console; Azure Monitor keeps its own default). */
const EXPORT_INTERVAL_MS = 60_000;

let started: TelemetryMode | undefined;

/** Registers the exporters the settings ask for, once per process; answers the mode. */
export function startTelemetry(env: Record<string, string | undefined>, log: StructuredLogger): TelemetryMode {
  if (started) return started;
  const mode = telemetryMode(env);
  started = mode;
  if (mode === "off") return mode;
  if (mode === "azure-monitor") {
    // Loaded only when asked: it takes about a second to load, and most of it is instrumentations.
    const { useAzureMonitor } = createRequire(import.meta.url)(
      "@azure/monitor-opentelemetry",
    ) as typeof import("@azure/monitor-opentelemetry");
    useAzureMonitor({ azureMonitorExporterOptions: { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING } });
  } else {
    const metricExporter: PushMetricExporter = mode === "otlp" ? new OTLPMetricExporter() : new ConsoleMetricExporter();
    const spanExporter: SpanExporter = mode === "otlp" ? new OTLPTraceExporter() : new ConsoleSpanExporter();
    const resource = resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? "burst" });
    metrics.setGlobalMeterProvider(
      new MeterProvider({
        resource,
        readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: EXPORT_INTERVAL_MS })],
      }),
    );
    trace.setGlobalTracerProvider(new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(spanExporter)] }));
  }
  log.info(`telemetry: metrics and traces go to ${mode}`, { step: "telemetry" });
  return mode;
}
