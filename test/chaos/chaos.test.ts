import { describe, expect, it } from "vitest";
import { runChaos } from "../../chaos/run.js";

describe("the short chaos run", () => {
  it("keeps every invariant, an array's every index ending once among them, while hosts are killed, Azurite restarts, Storage throttles and ARM misbehaves", async () => {
    const report = await runChaos({
      jobs: 24, hosts: 2, seed: 42, killGapMs: [3_000, 6_000], azuriteRestarts: 1, duplicateShare: 0.25, maxDurationMs: 150_000, arrayChildren: 10,
    });
    // The run really was chaotic…
    expect(report.kills).toBeGreaterThan(0);
    expect(report.azuriteRestarts).toBe(1);
    expect(report.duplicateSubmissions).toBeGreaterThan(0);
    expect(report.faults.injectedErrors + report.faults.lostResponses + report.faults.throttled).toBeGreaterThan(0);
    expect(report.faults.storageFaults).toBeGreaterThan(0);
    expect(report.faults.storageOutageMs).toBeGreaterThan(0);
    // …and nothing broke.
    expect(report.violations).toEqual([]);
    expect(Object.values(report.finalStates).reduce((a, b) => a + b, 0)).toBe(25);
  }, 240_000);
});
