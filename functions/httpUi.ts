import { app } from "@azure/functions";
import { apiHandler } from "../src/api/http.js";
import { serveUi } from "../src/ui/serve.js";

// The dashboard (README, Dashboard). Anonymous: the page and its script hold no data; the
// API calls they make carry the function key the user enters (or Entra ID guards the app).
app.http("ui", {
  route: "ui/{*path}",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: apiHandler(async (req) => serveUi(req)),
});
