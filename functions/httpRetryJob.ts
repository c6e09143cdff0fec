import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { retry } from "../src/api/jobs.js";

// 202 with the indexes retried; 409 if the job is not a Failed array with failed children.
app.http("retryJob", {
  route: "jobs/{id}/retry",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => retry(deps(), req)),
});
