import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage } from "../src/functionSupport.js";
import { readInternal } from "../src/scheduler/messages.js";
import { pump } from "../src/scheduler/flow.js";

app.storageQueue("pump", {
  queueName: appNames().pumpQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => pump(deps(), readInternal("pump", message).pool)),
});
