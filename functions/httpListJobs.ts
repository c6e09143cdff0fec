import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { listJobs } from "../src/api/jobs.js";

// Filtered by state, pool and label; paged with continuationToken.
app.http("listJobs", {
  route: "jobs",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => listJobs(deps(), req)),
});
