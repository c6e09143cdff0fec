import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, endJobOnLastTry, handleQueueMessage } from "../src/functionSupport.js";
import { readStep } from "../src/scheduler/messages.js";
import { UnreadableMessage } from "../src/errors.js";
import { launch, poll, pump } from "../src/scheduler/flow.js";

// The scheduler's delayed steps (src/store/outbox.ts): polls, launches and pool wake-ups.
app.storageQueue("monitor", {
  queueName: appNames().monitorQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(
      context,
      async () => {
        const m = readStep(message);
        if (m.step === "poll") return poll(deps(), { jobId: m.jobId, attempt: m.attempt, seq: m.seq });
        if (m.step === "launch") return void (await launch(deps(), m.jobId));
        return pump(deps(), m.pool);
      },
      async (err) => {
        if (err instanceof UnreadableMessage) return;
        const m = readStep(message);
        if (m.step !== "pump") await endJobOnLastTry(() => m.jobId, m.step === "poll" ? "monitor" : "launch")(err);
      },
    ),
});
