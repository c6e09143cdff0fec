import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage } from "../src/functionSupport.js";
import { readInternal } from "../src/scheduler/messages.js";
import { launchJob } from "../src/scheduler/launch.js";

const queueName = appNames().launchQueue;

app.storageQueue("launch", {
  queueName,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(queueName, context, () => launchJob(deps(), readInternal("launch", message).jobId)),
});
