import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, endJobOnLastTry, handleQueueMessage } from "../src/functionSupport.js";
import { readStep } from "../src/scheduler/messages.js";
import { UnreadableMessage } from "../src/errors.js";
import { launch, launchAll, poll, pollAll, pump } from "../src/scheduler/flow.js";

// The scheduler's delayed steps (src/store/outbox.ts): polls and launches, alone or several together, and pool wake-ups.
app.storageQueue("monitor", {
  queueName: appNames().monitorQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(
      context,
      async () => {
        const m = readStep(message);
        if (m.step === "poll")
          return poll(deps(), { jobId: m.jobId, attempt: m.attempt, seq: m.seq, ...(m.fresh ? { fresh: m.fresh } : {}) });
        if (m.step === "polls") return pollAll(deps(), m.polls);
        if (m.step === "launches") return launchAll(deps(), m.jobIds);
        if (m.step === "launch") return void (await launch(deps(), m.jobId));
        return pump(deps(), m.pool);
      },
      async (err) => {
        if (err instanceof UnreadableMessage) return;
        const m = readStep(message);
        // A message of several polls fails only when its failed polls could not be sent back alone: they end as one poll's would.
        const jobs =
          m.step === "polls" ? m.polls.map((p) => p.jobId) : m.step === "launches" ? m.jobIds : m.step === "pump" ? [] : [m.jobId];
        for (const jobId of jobs)
          await endJobOnLastTry(() => jobId, m.step === "launch" || m.step === "launches" ? "launch" : "monitor")(err);
      },
    ),
});
