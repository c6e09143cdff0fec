import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, endJobOnLastTry, handleQueueMessage } from "../src/functionSupport.js";
import { readInternal } from "../src/scheduler/messages.js";
import { launch } from "../src/scheduler/flow.js";

app.storageQueue("launch", {
  queueName: appNames().launchQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => launch(deps(), readInternal("launch", message).jobId),
      endJobOnLastTry(() => readInternal("launch", message).jobId, "launch")),
});
