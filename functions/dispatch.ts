import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage, messageMeta, specSource } from "../src/functionSupport.js";
import { dispatchMessage, parkSubmission } from "../src/scheduler/dispatch.js";

app.storageQueue("dispatch", {
  queueName: appNames().jobsQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) =>
    handleQueueMessage(context, () => dispatchMessage(deps(), specSource(), message, messageMeta(context)),
      (err, tries) => parkSubmission(deps(), specSource(), deps().poison, message, messageMeta(context), tries, err)),
});
