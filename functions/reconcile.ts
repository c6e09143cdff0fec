import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { reconcile } from "../src/scheduler/reconcile.js";
import { logLine } from "../src/telemetry/logger.js";

// The safety net: admission normally happens on events (submit, finish); this catches anything a crash left behind.
app.timer("reconcile", {
  // Through the config loader, which has already refused a bad BURST_RECONCILE_SCHEDULE (see functionSupport.ts).
  schedule: deps().config.reconcileSchedule,
  runOnStartup: true,
  handler: async (_timer, context) => {
    const report = await reconcile(deps(), { paceScan: true });
    if (report.actions > 0 || report.jobsDeleted > 0) context.log(logLine("info", `reconcile: ${JSON.stringify(report)}`));
  },
});
