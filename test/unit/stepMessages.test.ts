import { describe, expect, it } from "vitest";
import { readStep } from "../../src/scheduler/messages.js";
import { UnreadableMessage } from "../../src/errors.js";

describe("the monitor queue's step messages", () => {
  it("reads a message without a step as a poll, as every poll message has always been written", () => {
    expect(readStep({ jobId: "jabc", attempt: 2, seq: 7 })).toEqual({ step: "poll", jobId: "jabc", attempt: 2, seq: 7 });
  });

  it("reads launches and pool wake-ups by their step", () => {
    expect(readStep({ step: "launch", jobId: "jabc-00003" })).toEqual({ step: "launch", jobId: "jabc-00003" });
    expect(readStep({ step: "pump", pool: "gpu-a" })).toEqual({ step: "pump", pool: "gpu-a" });
  });

  it("refuses an unknown step, a step with the wrong fields, and anything that is not an object, as unreadable", () => {
    for (const body of [
      { step: "finish", jobId: "jabc" },
      { step: "launch", pool: "gpu" },
      { step: "pump", jobId: "jabc" },
      { jobId: "jabc" },
      "jabc",
      null,
      3,
    ]) {
      expect(() => readStep(body), JSON.stringify(body)).toThrow(UnreadableMessage);
    }
  });
});
