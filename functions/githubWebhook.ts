import { app } from "@azure/functions";
import { serveWebhook } from "../src/github/http.js";

// Anonymous to the Functions host: GitHub cannot send a function key. Each delivery is
// authenticated by its X-Hub-Signature-256 instead (BURST_GITHUB_WEBHOOK_SECRET).
app.http("githubWebhook", {
  route: "github/webhook",
  methods: ["POST"],
  authLevel: "anonymous",
  handler: (request) => serveWebhook(request),
});
