import { describe, expect, it } from "vitest";
import { WaitTimedOut, waitUntil } from "../support/wait.js";

describe("the tests' wait helper", () => {
  it("returns the first truthy value the check gives", async () => {
    let n = 0;
    expect(await waitUntil(() => (++n >= 3 ? { n } : undefined), { what: "the third check", intervalMs: 1 })).toEqual({ n: 3 });
  });

  it("returns the first value that passes `until`", async () => {
    let n = 0;
    expect(
      await waitUntil(() => ({ state: ++n >= 2 ? "Succeeded" : "Running" }), {
        what: "success",
        until: (j) => j.state === "Succeeded",
        intervalMs: 1,
      }),
    ).toEqual({ state: "Succeeded" });
  });

  it("fails after the timeout, saying what it waited for and the last value it saw", async () => {
    let checks = 0;
    const waiting = waitUntil(() => (checks++, { id: "j1", state: "Running" }), {
      what: "job j1 to finish",
      until: (j) => j.state === "Succeeded",
      timeoutMs: 50,
      intervalMs: 5,
    });
    await expect(waiting).rejects.toBeInstanceOf(WaitTimedOut);
    await expect(waiting).rejects.toThrow('timed out after 50 ms waiting for job j1 to finish; last value: {"id":"j1","state":"Running"}');
    expect(checks).toBeGreaterThan(1);
  });

  it("fails at once when the check throws, rather than waiting out a defect", async () => {
    const started = Date.now();
    await expect(
      waitUntil(
        () => {
          throw new Error("no such table");
        },
        { what: "a row", timeoutMs: 5000 },
      ),
    ).rejects.toThrow("no such table");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
