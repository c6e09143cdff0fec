import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { listPools } from "../src/api/pools.js";

// Slots, waiting line and budget windows per pool.
app.http("pools", {
  route: "pools",
  methods: ["GET"],
  authLevel: "function",
  handler: apiHandler((req) => listPools(deps(), req)),
});
