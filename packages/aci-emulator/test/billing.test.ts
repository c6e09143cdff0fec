import { afterEach, describe, expect, it } from "vitest";
import { createAciClient } from "./client.js";
import { ManualClock } from "../src/clock.js";
import { startEmulator, type RunningEmulator } from "../src/index.js";
import { group, http, POLL, RG, startTestEmulator, SUB, waitForState } from "./helpers.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("billing meter", () => {
  it("bills per second from the start of the image pull until stop, for every run, and keeps the meter after delete", async () => {
    const clock = new ManualClock();
    emulator = await startEmulator({ runtime: "sim", clock, timings: { scheduleDelayMs: 0, pullDelayMs: 1000, startDelayMs: 250 } });
    const client = createAciClient({ subscriptionId: SUB, endpoint: emulator.url });
    const pulledAt = clock.now();
    await client.containerGroups.beginCreateOrUpdate(RG, "metered", group({ command: ["/bin/sh", "-c", "sleep 3600"], cpu: 2, memoryInGB: 3 }));
    clock.advance(0); // the pull starts: billing starts
    clock.advance(1250); // pulled and started
    expect((await client.containerGroups.get(RG, "metered")).instanceView?.state).toBe("Running");
    clock.advance(10_000);
    await client.containerGroups.stop(RG, "metered");
    clock.advance(60_000); // stopped: nothing accrues

    let meter = emulator.stats().billing[0]!;
    expect(meter).toMatchObject({ name: "metered", cpu: 2, memoryInGB: 3, running: false, seconds: 11.25, billedSeconds: 12, vcpuSeconds: 24, gbSeconds: 36 });
    expect(meter.firstStart).toBe(new Date(pulledAt).toISOString());
    expect(meter.lastEnd).toBe(new Date(pulledAt + 11_250).toISOString());

    await client.containerGroups.beginStart(RG, "metered");
    clock.advance(0);
    clock.advance(1250 + 3000);
    await client.containerGroups.beginDeleteAndWait(RG, "metered");
    meter = emulator.stats().billing[0]!;
    expect(meter).toMatchObject({ deleted: true, running: false, seconds: 15.5, billedSeconds: 12 + 5, vcpuSeconds: 34, gbSeconds: 51 });
    expect(meter.intervals).toHaveLength(2);
    expect((await http(`${emulator.url}/_emulator/stats`)).json.billing[0].billedSeconds).toBe(17);
  });

  it("stops billing when the containers have all terminated, with exact and rounded seconds", async () => {
    const t = await startTestEmulator({ runtime: "sim", timings: { pullDelayMs: 200 } });
    emulator = t.emulator;
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "short", group({ command: ["/bin/sh", "-c", "sleep 0.3"], cpu: 0.5, memoryInGB: 1.5 }), POLL);
    await waitForState(t.client, "short", ["Succeeded"]);
    const meter = t.emulator.stats().billing[0]!;
    expect(meter.running).toBe(false);
    // At least the pull plus the run; billed as whole seconds.
    expect(meter.seconds).toBeGreaterThanOrEqual(0.5);
    expect(meter.billedSeconds).toBe(Math.ceil(meter.seconds));
    expect(meter.vcpuSeconds).toBe(meter.billedSeconds * 0.5);
    expect(meter.gbSeconds).toBe(meter.billedSeconds * 1.5);
    expect(Date.parse(meter.lastEnd!) - Date.parse(meter.firstStart!)).toBeCloseTo(meter.seconds * 1000, -1);
  });
});
