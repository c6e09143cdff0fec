import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { submitJobs } from "../src/api/submit.js";

// One spec or a list (JSON or YAML); all are checked before any is created.
app.http("submitJobs", {
  route: "jobs",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => submitJobs(deps(), req)),
});
