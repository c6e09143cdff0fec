import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, endJobOnLastTry, handleQueueMessage } from "../src/functionSupport.js";
import { readInternal } from "../src/scheduler/messages.js";
import { launchJob } from "../src/scheduler/launch.js";

app.storageQueue("launch", {
  queueName: appNames().launchQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => launchJob(deps(), readInternal("launch", message).jobId),
      endJobOnLastTry(() => readInternal("launch", message).jobId, "launch")),
});
