import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, endJobOnLastTry, handleQueueMessage } from "../src/functionSupport.js";
import { readInternal } from "../src/scheduler/messages.js";
import { poll } from "../src/scheduler/flow.js";

app.storageQueue("monitor", {
  queueName: appNames().monitorQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => poll(deps(), readInternal("monitor", message)),
      endJobOnLastTry(() => readInternal("monitor", message).jobId, "monitor")),
});
