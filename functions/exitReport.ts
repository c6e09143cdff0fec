import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage } from "../src/functionSupport.js";
import { readReport } from "../src/exitReport.js";
import { exitReported } from "../src/scheduler/flow.js";

// A report is only a hint: one that keeps failing ends nothing, and goes to poison.
app.storageQueue("exitReport", {
  queueName: appNames().exitsQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) => handleQueueMessage(context, () => exitReported(deps(), readReport(message))),
});
