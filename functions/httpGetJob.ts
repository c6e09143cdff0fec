import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { getJob } from "../src/api/jobs.js";

// The whole record, every attempt, without sealed secure values.
app.http("getJob", {
  route: "jobs/{id}",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => getJob(deps(), req)),
});
