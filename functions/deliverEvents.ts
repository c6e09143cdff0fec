import { app } from "@azure/functions";
import { appNames, STORAGE_CONNECTION } from "../src/appNames.js";
import { deps, handleQueueMessage } from "../src/functionSupport.js";
import { appStorage } from "../src/composition.js";
import { deliverEvent, readEventMessage } from "../src/events/deliver.js";

app.storageQueue("deliverEvents", {
  queueName: appNames().eventsQueue,
  connection: STORAGE_CONNECTION,
  handler: (message, context) => handleQueueMessage(context, () => deliverEvent(deps(), appStorage().queues, readEventMessage(message))),
});
