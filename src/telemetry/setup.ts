/**
 * Where metrics and traces go, by setting (README, Telemetry):
 *
 * - `azure-monitor`: Application Insights, through @azure/monitor-opentelemetry-exporter,
 *   when APPLICATIONINSIGHTS_CONNECTION_STRING is set (the deploy template sets it). Not
 *   the @azure/monitor-opentelemetry distro: it brings the whole Node SDK, every OTLP
 *   exporter and a dozen instrumentations Burst has no use for (200 packages, 94 MB more
 *   in the deployment zip); its exporters, which it uses underneath, are all Burst needs;
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
import type { StructuredLogger } from "./logger.js";

// The SDKs and exporters are loaded only when asked for (synchronously, through require: see
// above): together they take about a second to load, a cost every cold start would pay.
const load = createRequire(import.meta.url);

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

/** How often metrics are exported. */
const EXPORT_INTERVAL_MS = 60_000;

let started: TelemetryMode | undefined;

/** Registers the exporters the settings ask for, once per process; answers the mode. */
export function startTelemetry(env: Record<string, string | undefined>, log: StructuredLogger): TelemetryMode {
  if (started) return started;
  const mode = telemetryMode(env);
  started = mode;
  if (mode === "off") return mode;
  const sdkMetrics = load("@opentelemetry/sdk-metrics") as typeof import("@opentelemetry/sdk-metrics");
  const sdkTrace = load("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base");
  const { resourceFromAttributes } = load("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const { metricExporter, spanExporter } = exporters(mode, env, sdkMetrics, sdkTrace);
  const resource = resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? "burst" });
  const reader = new sdkMetrics.PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: EXPORT_INTERVAL_MS });
  metrics.setGlobalMeterProvider(new sdkMetrics.MeterProvider({ resource, readers: [reader] }));
  trace.setGlobalTracerProvider(
    new sdkTrace.BasicTracerProvider({ resource, spanProcessors: [new sdkTrace.BatchSpanProcessor(spanExporter)] }),
  );
  log.info(`telemetry: metrics and traces go to ${mode}`, { step: "telemetry" });
  return mode;
}

type SdkMetrics = typeof import("@opentelemetry/sdk-metrics");
type SdkTrace = typeof import("@opentelemetry/sdk-trace-base");

function exporters(
  mode: Exclude<TelemetryMode, "off">,
  env: Record<string, string | undefined>,
  sdkMetrics: SdkMetrics,
  sdkTrace: SdkTrace,
): {
  metricExporter: import("@opentelemetry/sdk-metrics").PushMetricExporter;
  spanExporter: import("@opentelemetry/sdk-trace-base").SpanExporter;
} {
  if (mode === "azure-monitor") {
    const am = load("@azure/monitor-opentelemetry-exporter") as typeof import("@azure/monitor-opentelemetry-exporter");
    const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
    return {
      metricExporter: new am.AzureMonitorMetricExporter({ connectionString }),
      spanExporter: new am.AzureMonitorTraceExporter({ connectionString }),
    };
  }
  if (mode === "otlp") {
    const { OTLPMetricExporter } = load(
      "@opentelemetry/exporter-metrics-otlp-http",
    ) as typeof import("@opentelemetry/exporter-metrics-otlp-http");
    const { OTLPTraceExporter } = load(
      "@opentelemetry/exporter-trace-otlp-http",
    ) as typeof import("@opentelemetry/exporter-trace-otlp-http");
    return { metricExporter: new OTLPMetricExporter(), spanExporter: new OTLPTraceExporter() };
  }
  return { metricExporter: new sdkMetrics.ConsoleMetricExporter(), spanExporter: new sdkTrace.ConsoleSpanExporter() };
}
