import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage, messageMeta, specSource } from "../src/functionSupport.js";
import { dispatchMessage } from "../src/scheduler/dispatch.js";

app.storageQueue("dispatch", {
  queueName: appNames().jobsQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => dispatchMessage(deps(), specSource(), message, messageMeta(context))),
});
