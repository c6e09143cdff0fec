import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { runOnce } from "../src/api/run.js";

// A one-off container: answers with its result when it ends within waitSeconds.
app.http("run", {
  route: "run",
  methods: ["POST"],
  authLevel: "function",
  handler: apiHandler((req) => runOnce(deps(), req)),
});
