/**
 * Burst's create (AciBackend.create) through the real SDK against the emulator: it sends
 * the PUT and returns on its answer, without the operation-status read the SDK's
 * beginCreateOrUpdate would make next, and takes no read token for that read either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { AciBackend } from "../../src/aci/backend.js";
import { ArmPacer } from "../../src/aci/armPacer.js";
import { createAciClient } from "../../src/aci/client.js";

const SUB = "00000000-0000-0000-0000-0000000000c1";
const RG = "creates";
const group = {
  location: "eastus",
  osType: "Linux",
  restartPolicy: "Never",
  containers: [{ name: "job", image: "alpine", command: ["sleep", "1"], resources: { requests: { cpu: 1, memoryInGB: 1 } } }],
};

describe("a create", () => {
  let emulator: RunningEmulator;
  let pacer: ArmPacer;
  let aci: AciBackend;
  beforeAll(async () => {
    emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 50, startDelayMs: 10 } });
    pacer = new ArmPacer(1);
    aci = new AciBackend(
      (subscriptionId, retries) =>
        createAciClient({
          subscriptionId,
          endpoint: emulator.url,
          pacer,
          clientOptions: retries ? {} : { retryOptions: { maxRetries: 0 } },
        }),
      4,
    );
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("returns on the PUT's answer, created or existed, and never reads the operation's status", async () => {
    const ref = { subscriptionId: SUB, resourceGroup: RG, name: "one" };
    const before = emulator.stats().counts.operationReads;
    const taken: string[] = [];
    const acquire = pacer.acquire.bind(pacer);
    pacer.acquire = (subscriptionId, kind) => (taken.push(kind), acquire(subscriptionId, kind));
    expect(await aci.create(ref, group)).toBe("created");
    expect(await aci.create(ref, group)).toBe("existed");
    pacer.acquire = acquire;
    expect(emulator.stats().counts.operationReads).toBe(before);
    // The poll that was never sent took no read token from the subscription's bucket.
    expect(taken).toEqual(["write", "write"]);
    expect(emulator.stats().createsByName.one).toBe(1);
    expect((await aci.get(ref))?.provisioningState).toBeDefined();
  });

  it("still fails on a PUT that ACI refuses", async () => {
    const ref = { subscriptionId: SUB, resourceGroup: RG, name: "Not_A_Valid_Name!" };
    await expect(aci.create(ref, group)).rejects.toThrow();
    expect(emulator.stats().createsByName["Not_A_Valid_Name!"]).toBeUndefined();
  });
});
