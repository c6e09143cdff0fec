import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { appStorage } from "../src/composition.js";
import { apiHandler } from "../src/api/http.js";
import { getSchedule, listSchedules, postSchedule, removeSchedule, suspendOrResume, trigger } from "../src/api/schedules.js";
import { checkSchedules } from "../src/schedules/fire.js";
import { ScheduleStore } from "../src/schedules/store.js";
import { logLine } from "../src/telemetry/logger.js";

let store: ScheduleStore | undefined;
const schedules = () => (store ??= new ScheduleStore(appStorage().table(deps().config.names.schedulesTable)));

// Cron job templates: each tick fires once across every instance (see src/schedules/fire.ts).
app.http("postSchedule", {
  route: "schedules",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => postSchedule(deps(), schedules(), req)),
});
app.http("listSchedules", {
  route: "schedules",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => listSchedules(deps(), schedules(), req)),
});
app.http("getSchedule", {
  route: "schedules/{name}",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => getSchedule(deps(), schedules(), req)),
});
app.http("deleteSchedule", {
  route: "schedules/{name}",
  methods: ["DELETE"],
  authLevel: "function",
  handler: apiHandler((req) => removeSchedule(deps(), schedules(), req)),
});
app.http("suspendSchedule", {
  route: "schedules/{name}/suspend",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => suspendOrResume(deps(), schedules(), req, true)),
});
app.http("resumeSchedule", {
  route: "schedules/{name}/resume",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => suspendOrResume(deps(), schedules(), req, false)),
});
app.http("triggerSchedule", {
  route: "schedules/{name}/trigger",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => trigger(deps(), schedules(), req)),
});

// Every BURST_SCHEDULE_CHECK (default 15 s): a tick runs at most that long after its time.
app.timer("checkSchedules", {
  schedule: deps().config.scheduleCheck,
  runOnStartup: false,
  handler: async (_timer, context) => {
    const r = await checkSchedules(deps(), schedules());
    if (r.fired.length + r.skipped.length + r.missed.length + r.failed.length > 0)
      context.log(logLine("info", `schedules: ${JSON.stringify(r)}`));
  },
});
