import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { costs } from "../src/api/costs.js";

// Costs from the ledger, grouped by pool, day or job.
app.http("costs", {
  route: "costs",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => costs(deps(), req)),
});
