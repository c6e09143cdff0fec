/**
 * The ARM pacer: calls wait for a token in their subscription's bucket instead of being
 * sent into a 429. On a manual clock for its arithmetic, then through the real SDK client
 * against the emulator's token buckets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { ArmPacer, kindOf, type BucketLimit, type PacerClock } from "../../src/aci/armPacer.js";
import { createAciClient } from "../../src/aci/client.js";

/** Time moves only when a caller sleeps. */
function manualClock(): PacerClock & { slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

const small: Record<"read" | "write" | "delete", BucketLimit> = {
  read: { capacity: 10, refillPerSecond: 2 },
  write: { capacity: 10, refillPerSecond: 2 },
  delete: { capacity: 10, refillPerSecond: 2 },
};

describe("the ARM pacer's arithmetic", () => {
  it("lets its share of the bucket go at once and makes the next call wait for the refill", async () => {
    const clock = manualClock();
    const pacer = new ArmPacer(0.5, small, clock);
    for (let i = 0; i < 5; i++) await pacer.acquire("sub", "read");
    expect(clock.slept).toEqual([]);
    await pacer.acquire("sub", "read");
    // Its share refills at 1 token/s: one second's wait.
    expect(clock.slept).toEqual([1000]);
  });

  it("keeps separate buckets per subscription and per kind", async () => {
    const clock = manualClock();
    const pacer = new ArmPacer(0.5, small, clock);
    for (let i = 0; i < 5; i++) await pacer.acquire("sub-a", "read");
    await pacer.acquire("sub-b", "read");
    await pacer.acquire("sub-a", "write");
    expect(clock.slept).toEqual([]);
  });

  it("lowers its tokens to what ARM says is left above the part kept for others", () => {
    const pacer = new ArmPacer(0.5, small, manualClock());
    // Others may use 5 of the 10; ARM says 6 remain, so 1 is this process's.
    pacer.observe("sub", "read", { status: 200, remaining: 6 });
    expect(pacer.available("sub", "read")).toBe(1);
    pacer.observe("sub", "read", { status: 200, remaining: 10 });
    expect(pacer.available("sub", "read")).toBe(1);
  });

  it("sends nothing of that kind until a 429's Retry-After has passed", async () => {
    const clock = manualClock();
    const pacer = new ArmPacer(1, small, clock);
    pacer.observe("sub", "write", { status: 429, retryAfterSeconds: 7 });
    await pacer.acquire("sub", "write");
    expect(clock.slept[0]).toBe(7000);
  });

  it("charges GET and HEAD as reads, DELETE as deletes and everything else as writes", () => {
    expect([kindOf("GET"), kindOf("head"), kindOf("DELETE"), kindOf("PUT"), kindOf("POST")]).toEqual([
      "read",
      "read",
      "delete",
      "write",
      "write",
    ]);
  });

  it("refuses a share outside (0, 1]", () => {
    expect(() => new ArmPacer(0)).toThrow("share");
    expect(() => new ArmPacer(1.5)).toThrow("share");
  });
});

describe("the ARM pacer in the SDK client's pipeline", () => {
  const SUB = "00000000-0000-0000-0000-00000000a001";
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 10, startDelayMs: 10 } });
    const client = createAciClient({ subscriptionId: SUB, endpoint: emulator.url });
    await client.containerGroups.beginCreateOrUpdateAndWait(
      "paced",
      "one",
      {
        location: "eastus",
        osType: "Linux",
        restartPolicy: "Never",
        containers: [
          { name: "main", image: "alpine", command: ["sh", "-c", "sleep 30"], resources: { requests: { cpu: 1, memoryInGB: 1 } } },
        ],
      },
      { updateIntervalInMs: 10 },
    );
    // A read bucket of 20 at 20/s, from here on.
    emulator.setLimits({
      armThrottling: {
        enabled: true,
        reads: { capacity: 20, refillPerSecond: 20 },
        writes: { capacity: 200, refillPerSecond: 10 },
        deletes: { capacity: 200, refillPerSecond: 10 },
      },
    });
  });
  afterAll(async () => emulator?.close());

  const burstOfReads = async (pacer: ArmPacer | undefined) => {
    const before = emulator.stats().counts.throttled.reads;
    const client = createAciClient({
      subscriptionId: SUB,
      endpoint: emulator.url,
      pacer,
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => client.containerGroups.get("paced", "one")));
    return { failed: results.filter((r) => r.status === "rejected").length, throttled: emulator.stats().counts.throttled.reads - before };
  };

  it("sends 40 reads into a bucket of 20 without one 429, where unpaced they are throttled", async () => {
    const pacer = new ArmPacer(0.9, { read: { capacity: 20, refillPerSecond: 20 }, write: small.write, delete: small.delete });
    const paced = await burstOfReads(pacer);
    expect(paced).toEqual({ failed: 0, throttled: 0 });
    const unpaced = await burstOfReads(undefined);
    expect(unpaced.throttled).toBeGreaterThan(0);
  });
});
