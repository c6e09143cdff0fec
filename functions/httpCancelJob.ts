import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { cancel } from "../src/api/jobs.js";

// 202 while it stops, 409 if it had already finished.
app.http("cancelJob", {
  route: "jobs/{id}",
  methods: ["DELETE"],
  authLevel: "function",
  handler: apiHandler((req) => cancel(deps(), req)),
});
