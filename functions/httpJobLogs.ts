import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { jobLogs } from "../src/api/logs.js";

// text/plain; ?follow=true is a long poll (see docs/api.md).
app.http("jobLogs", {
  route: "jobs/{id}/logs",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => jobLogs(deps(), req)),
});
