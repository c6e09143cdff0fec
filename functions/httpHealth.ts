import { app } from "@azure/functions";
import { health } from "../src/api/health.js";

// Anonymous, and says nothing but that this Burst answers: `npm start` asks it which instance it is.
app.http("health", {
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: () => health(),
});
