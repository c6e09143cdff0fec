/**
 * The state file: container groups outlive a restart of the emulator. What ran when it
 * stopped comes back Terminated at that moment, billed up to it and no further, and is
 * not restarted; what had ended keeps its state; deleted groups keep their bill.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { billedResourceId, costsByResource } from "./client.js";
import { EMULATOR_STOPPED_DETAIL, StateFileError, startEmulator, type RunningEmulator } from "../src/index.js";
import { group, POLL, RG, SUB, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

const sh = (s: string) => ["/bin/sh", "-c", s];
const today = () => new Date().toISOString().slice(0, 10);

const open: RunningEmulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "aci-state-"));
  dirs.push(dir);
  return path.join(dir, "emulator-state.json");
}

async function start(file: string): Promise<TestEmulator> {
  const t = await startTestEmulator({ stateFile: file, costs: { reportDelayMs: 0 } });
  open.push(t.emulator);
  return t;
}

describe("the emulator's state file", () => {
  it("brings groups back after a restart: one that ran is Terminated at the shutdown moment with its bill ending there, an ended one is as it was, a deleted one keeps its bill", async () => {
    const file = stateFile();
    const first = await start(file);
    await first.client.containerGroups.beginCreateOrUpdateAndWait(RG, "ran", group({ command: sh("echo started; sleep 3600"), cpu: 2, memoryInGB: 3 }), POLL);
    await first.client.containerGroups.beginCreateOrUpdateAndWait(RG, "ended", group({ command: sh("echo done; exit 3") }), POLL);
    await first.client.containerGroups.beginCreateOrUpdateAndWait(RG, "gone", group({ command: sh("echo bye") }), POLL);
    await waitForState(first.client, "ran", ["Running"]);
    await until(async () => (await first.client.containers.listLogs(RG, "ran", "main")).content?.includes("started"), 5000, "ran's first line");
    const ended = await waitForState(first.client, "ended", ["Failed"]);
    await waitForState(first.client, "gone", ["Succeeded"]);
    await first.client.containerGroups.beginDeleteAndWait(RG, "gone", POLL);
    const goneMeter = first.emulator.stats().billing.find((b) => b.name === "gone")!;

    const stopping = Date.now();
    await first.emulator.close();
    const stopped = Date.now();

    const second = await start(file);
    expect(second.emulator.restored).toMatchObject({ file, groups: 2, ended: 1 });
    const shutdownAt = Date.parse(second.emulator.restored!.savedAt);
    expect(shutdownAt).toBeGreaterThanOrEqual(stopping);
    expect(shutdownAt).toBeLessThanOrEqual(stopped);

    // Ran: Terminated at the moment the emulator stopped, with no exit code (there was none), and not started again.
    const ran = await second.client.containerGroups.get(RG, "ran");
    expect(ran.provisioningState).toBe("Succeeded");
    expect(ran.instanceView?.state).toBe("Failed");
    const view = ran.containers[0]!.instanceView!;
    expect(view.currentState).toMatchObject({ state: "Terminated", detailStatus: EMULATOR_STOPPED_DETAIL });
    expect(view.currentState?.exitCode).toBeUndefined();
    expect(view.currentState?.finishTime?.getTime()).toBe(shutdownAt);
    expect(view.previousState).toMatchObject({ state: "Running" });
    expect(view.restartCount).toBe(0);
    expect((await second.client.containers.listLogs(RG, "ran", "main")).content).toBe("started\n");

    // Its meter, and the Cost Management bill made from it, end at that moment.
    const meter = second.emulator.stats().billing.find((b) => b.name === "ran")!;
    expect(meter.running).toBe(false);
    expect(Date.parse(meter.lastEnd!)).toBe(shutdownAt);
    expect(meter.billedSeconds).toBe(Math.ceil((shutdownAt - Date.parse(meter.firstStart!)) / 1000 - 1e-9));
    const billed = await costsByResource(second.emulator.url, { subscriptionId: SUB, resourceGroup: RG }, today(), today());
    const c = second.emulator.costs();
    expect(billed.get(billedResourceId({ subscriptionId: SUB, resourceGroup: RG }, "ran"))).toBeCloseTo(meter.vcpuSeconds * c.vcpuSecondUsd + meter.gbSeconds * c.gbSecondUsd, 12);
    expect(billed.get(billedResourceId({ subscriptionId: SUB, resourceGroup: RG }, "gone"))).toBeCloseTo(goneMeter.vcpuSeconds * c.vcpuSecondUsd + goneMeter.gbSeconds * c.gbSecondUsd, 12);

    // Ended: exactly as it was.
    const endedAgain = await second.client.containerGroups.get(RG, "ended");
    expect(endedAgain.instanceView?.state).toBe("Failed");
    expect(endedAgain.containers[0]!.instanceView!.currentState).toEqual(ended.containers[0]!.instanceView!.currentState);
    expect((await second.client.containers.listLogs(RG, "ended", "main")).content).toBe("done\n");

    // Gone: still gone, its meter kept.
    await expect(second.client.containerGroups.get(RG, "gone")).rejects.toMatchObject({ statusCode: 404 });
    expect(second.emulator.stats().billing.find((b) => b.name === "gone")).toMatchObject({ deleted: true, billedSeconds: goneMeter.billedSeconds, lastEnd: goneMeter.lastEnd });
    expect(second.emulator.stats().alive.map((g) => [g.name, g.state]).sort()).toEqual([["ended", "Failed"], ["ran", "Failed"]]);
  });

  it("loses only about a second to a crash: a group the last periodic save saw running comes back ended at that save", async () => {
    const file = stateFile();
    const first = await start(file);
    await first.client.containerGroups.beginCreateOrUpdateAndWait(RG, "crashed", group({ command: sh("sleep 3600") }), POLL);
    await waitForState(first.client, "crashed", ["Running"]);
    const runningSince = Date.now();
    // The periodic save that sees it running; a copy of it stands for the file a crash right after would leave.
    const saved = await until(() => {
      if (!existsSync(file)) return undefined;
      const s = JSON.parse(readFileSync(file, "utf8"));
      return s.savedAt >= runningSince && s.groups[0]?.state === "Running" ? s : undefined;
    }, 5000, "a periodic save with the group running");
    copyFileSync(file, `${file}.crash`);
    await first.emulator.close();
    copyFileSync(`${file}.crash`, file);

    const second = await start(file);
    const c = (await second.client.containerGroups.get(RG, "crashed")).containers[0]!.instanceView!.currentState!;
    expect(c).toMatchObject({ state: "Terminated", detailStatus: EMULATOR_STOPPED_DETAIL });
    expect(c.finishTime!.getTime()).toBe(Math.floor(saved.savedAt));
    expect(Date.parse(second.emulator.stats().billing[0]!.lastEnd!)).toBe(Math.floor(saved.savedAt));
  });

  it("never writes secure values, and refuses to start a restored group that had them rather than run it without", async () => {
    const file = stateFile();
    const first = await start(file);
    await first.client.containerGroups.beginCreateOrUpdateAndWait(RG, "secret", group({ command: sh("sleep 3600"), env: [{ name: "TOKEN", secureValue: "s3cr3t-value" }, { name: "PLAIN", value: "visible" }] }), POLL);
    await first.emulator.close();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("s3cr3t-value");
    expect(text).toContain("visible");

    const second = await start(file);
    await expect(second.client.containerGroups.beginStart(RG, "secret")).rejects.toMatchObject({ statusCode: 409, code: "ContainerGroupRestoredWithoutSecrets" });
    // A PUT carrying them runs it again.
    await second.client.containerGroups.beginCreateOrUpdateAndWait(RG, "secret", group({ command: sh("sleep 3600"), env: [{ name: "TOKEN", secureValue: "s3cr3t-value" }, { name: "PLAIN", value: "visible" }] }), POLL);
    await waitForState(second.client, "secret", ["Running"]);
    await second.client.containerGroups.beginRestart(RG, "secret");
  });

  it("refuses to start on a state file it cannot read, naming the file, rather than overwrite it", async () => {
    const file = stateFile();
    writeFileSync(file, "{ not json");
    await expect(startEmulator({ runtime: "sim", stateFile: file })).rejects.toThrow(StateFileError);
    await expect(startEmulator({ runtime: "sim", stateFile: file })).rejects.toThrow(file);
    expect(readFileSync(file, "utf8")).toBe("{ not json");
  });
});
