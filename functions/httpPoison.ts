import { app } from "@azure/functions";
import { deps } from "../src/functionSupport.js";
import { apiHandler } from "../src/api/http.js";
import { poisonDepths, poisonPeek, poisonPurge, poisonRedrive } from "../src/api/poison.js";

// Messages that kept failing: see them, send them back, or throw them away.
app.http("poisonDepths", { route: "poison", methods: ["GET"], authLevel: "function", handler: apiHandler((req) => poisonDepths(deps(), req)) });
app.http("poisonPeek", { route: "poison/{queue}", methods: ["GET"], authLevel: "function", handler: apiHandler((req) => poisonPeek(deps(), req)) });
app.http("poisonRedrive", { route: "poison/{queue}/redrive", methods: ["POST"], authLevel: "function", handler: apiHandler((req) => poisonRedrive(deps(), req)) });
app.http("poisonPurge", { route: "poison/{queue}/purge", methods: ["POST"], authLevel: "function", handler: apiHandler((req) => poisonPurge(deps(), req)) });
