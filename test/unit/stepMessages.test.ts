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

describe("a message of several polls", () => {
  it("reads every poll it carries, fresh ones included", () => {
    const polls = [
      { jobId: "ja", attempt: 1, seq: 3 },
      { jobId: "jb", attempt: 2, seq: 0, fresh: true },
    ];
    expect(readStep({ step: "polls", polls })).toEqual({ step: "polls", polls });
  });

  it("reads a message of several launches, and refuses a bad job id among them", () => {
    expect(readStep({ step: "launches", jobIds: ["ja", "jb-00001"] })).toEqual({ step: "launches", jobIds: ["ja", "jb-00001"] });
    expect(() => readStep({ step: "launches", jobIds: ["ja", "../x"] })).toThrow(UnreadableMessage);
    expect(() => readStep({ step: "launches", jobIds: [] })).toThrow(UnreadableMessage);
  });

  it("refuses an empty list, a list of more than 100, a bad poll among good ones, and extra fields", () => {
    const one = { jobId: "ja", attempt: 1, seq: 3 };
    for (const body of [
      { step: "polls", polls: [] },
      { step: "polls", polls: Array(101).fill(one) },
      { step: "polls", polls: [one, { jobId: "jb" }] },
      { step: "polls", polls: [one], extra: 1 },
      { step: "polls" },
    ]) {
      expect(() => readStep(body), JSON.stringify(body).slice(0, 80)).toThrow(UnreadableMessage);
    }
  });
});
