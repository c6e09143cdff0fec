/**
 * A job's path from submit to finish as one trace, across invocations and instances.
 *
 * No invocation outlives one step, and nothing carries a trace context from the HTTP
 * submit through queue messages to the monitor's last poll. So the trace is derived,
 * not carried: its trace id is a hash of the job id, and every span of the job has the
 * same (derived) parent, the job's root. Whichever instance writes a transition adds a
 * span to the same trace, and a trace viewer shows them together. Each transition is a
 * span covering the time the job spent in the state it left (`since` → `at`); the final
 * transition also adds `burst.job`, covering the whole path. The root's id is derived
 * too, so the spans link up even though no span with that id is ever exported.
 */
import { createHash } from "node:crypto";
import { context, trace, TraceFlags, type SpanContext, type Tracer } from "@opentelemetry/api";
import { isFinal, type TransitionEvent } from "../jobState.js";

/** The job's trace and root span ids: a SHA-256 of the job id (never all zeros). */
export function jobTraceContext(jobId: string): SpanContext {
  const h = createHash("sha256").update(`burst-job:${jobId}`).digest("hex");
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48), traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

/** Returns the listener that turns each transition into its span in the job's trace. */
export function jobSpans(tracer: Tracer): (e: TransitionEvent) => void {
  return (e) => {
    const parent = trace.setSpanContext(context.active(), jobTraceContext(e.jobId));
    const attributes = {
      "burst.job.id": e.jobId,
      "burst.pool": e.job?.pool ?? "unknown",
      "burst.state.from": e.from,
      "burst.state.to": e.to,
      ...(e.attempt ? { "burst.attempt": e.attempt } : {}),
      ...(e.reason ? { "burst.reason": e.reason.slice(0, 200) } : {}),
    };
    const at = new Date(e.at);
    const span = tracer.startSpan(
      `burst.job.${e.from === "New" ? "submit" : e.from}`,
      { startTime: e.since ? new Date(e.since) : at, attributes },
      parent,
    );
    span.end(at);
    if (isFinal(e.to) && e.job?.createdAt) {
      tracer
        .startSpan("burst.job", { startTime: new Date(e.job.createdAt), attributes: { ...attributes, "burst.state": e.to } }, parent)
        .end(at);
    }
  };
}
