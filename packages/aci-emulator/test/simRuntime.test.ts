import pLimit from "p-limit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { lookupImage, runnerStandInOutput } from "../src/images.js";
import { SimRuntime } from "../src/runtime/sim.js";
import { group, POLL, RG, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

let sim: TestEmulator;
let proc: TestEmulator;
beforeAll(async () => {
  [sim, proc] = await Promise.all([startTestEmulator({ runtime: "sim", fidelity: { containerEvents: "present" } }), startTestEmulator({ runtime: "process", fidelity: { containerEvents: "present" } })]);
});
beforeEach(async () => {
  await Promise.all([sim.emulator.reset(), proc.emulator.reset()]);
});
afterAll(async () => {
  await Promise.all([sim.emulator.close(), proc.emulator.close()]);
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const logs = async (t: TestEmulator, name: string) => (await t.client.containers.listLogs(RG, name, "main")).content ?? "";

describe("sim runtime", () => {
  it("runs a for loop with sleeps over time: ticks appear while Running, then the group Succeeds", async () => {
    const script = 'for i in $(seq 1 4); do echo "tick $i"; sleep 0.15; done; echo finished';
    await sim.client.containerGroups.beginCreateOrUpdateAndWait(RG, "loop", group({ command: sh(script) }), POLL);
    const partial = await until(async () => {
      const [g, content] = await Promise.all([sim.client.containerGroups.get(RG, "loop"), logs(sim, "loop")]);
      return g.instanceView?.state === "Running" && content.startsWith("tick 1\n") ? content : undefined;
    });
    expect(partial).not.toContain("finished");
    await waitForState(sim.client, "loop", ["Succeeded"]);
    expect(await logs(sim, "loop")).toBe("tick 1\ntick 2\ntick 3\ntick 4\nfinished\n");
  });

  it("means the same thing as /bin/sh for a command in the subset", async () => {
    const script = [
      "echo start",
      'for i in $(seq 1 3); do echo "n=$i"; sleep 0.02; done',
      "seq 2 2 6",
      "false && echo never",
      'echo "$GREETING" ${WHO}',
      "for w in alpha beta; do echo $w; done",
      "exit 4",
    ].join("\n");
    const body = group({ command: sh(script), env: [{ name: "GREETING", value: "hello" }, { name: "WHO", secureValue: "world" }] });
    for (const t of [sim, proc]) await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "same", body, POLL);
    const [a, b] = await Promise.all([waitForState(sim.client, "same", ["Failed"]), waitForState(proc.client, "same", ["Failed"])]);
    expect(a.containers[0]!.instanceView?.currentState?.exitCode).toBe(4);
    expect(b.containers[0]!.instanceView?.currentState?.exitCode).toBe(4);
    const expected = "start\nn=1\nn=2\nn=3\n2\n4\n6\nhello world\nalpha\nbeta\n";
    expect(await logs(sim, "same")).toBe(expected);
    expect(await logs(proc, "same")).toBe(expected);
  });

  it("runs a wrapper's command in the sim and the wrapper itself for real, as /bin/sh does", async () => {
    // Outside the subset (case, $?, an assignment), around a command inside it; it hides SECRET from the command.
    const wrapper = 'h="$SECRET"; unset SECRET\n"$@"; code=$?\ncase $code in 3) echo "after: three, secret ${#h} chars";; esac\nexit $code';
    const body = group({ command: ["/bin/sh", "-c", wrapper, "wrap", "sh", "-c", 'echo "inside [$SECRET]"; exit 3'], env: [{ name: "SECRET", secureValue: "s3cret" }] });
    for (const t of [sim, proc]) await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "wrapped", body, POLL);
    const [a, b] = await Promise.all([waitForState(sim.client, "wrapped", ["Failed"]), waitForState(proc.client, "wrapped", ["Failed"])]);
    expect(a.containers[0]!.instanceView?.currentState?.exitCode).toBe(3);
    expect(b.containers[0]!.instanceView?.currentState?.exitCode).toBe(3);
    const expected = "inside []\nafter: three, secret 6 chars\n";
    expect(await logs(sim, "wrapped")).toBe(expected);
    expect(await logs(proc, "wrapped")).toBe(expected);
  });

  it("fails a command outside the subset with exit code 127 and a log line saying why", async () => {
    await sim.client.containerGroups.beginCreateOrUpdateAndWait(RG, "pipe", group({ command: sh("seq 1 10 | tail -1") }), POLL);
    const g = await waitForState(sim.client, "pipe", ["Failed"]);
    expect(g.containers[0]!.instanceView?.currentState?.exitCode).toBe(127);
    expect(await logs(sim, "pipe")).toBe(
      "sim runtime: pipes (|); only the documented shell subset runs under --runtime sim (see the aci-emulator README)\n",
    );
  });

  it("runs the aci-helloworld stand-in until it is stopped", async () => {
    await sim.client.containerGroups.beginCreateOrUpdateAndWait(RG, "web", group({ image: "mcr.microsoft.com/azuredocs/aci-helloworld", ports: [80] }), POLL);
    await until(async () => (await logs(sim, "web")) === "listening on port 80\n");
    expect((await sim.client.containerGroups.get(RG, "web")).instanceView?.state).toBe("Running");
    await sim.client.containerGroups.stop(RG, "web");
    const g = await sim.client.containerGroups.get(RG, "web");
    expect(g.instanceView?.state).toBe("Stopped");
    expect(g.containers[0]!.instanceView?.currentState).toMatchObject({ state: "Terminated", detailStatus: "Container stopped per client request" });
    expect(g.containers[0]!.instanceView?.currentState?.exitCode).toBeUndefined();
  });

  it("can kill a stand-in before it has even started", async () => {
    const runtime = new SimRuntime();
    const exit = new Promise<number>((resolve) => {
      const c = runtime.launch({ label: "rg/g/main", run: { kind: "standIn", entry: lookupImage("nginx")! }, env: {}, onLine: () => {}, onExit: resolve });
      void c.kill(0);
    });
    expect(await exit).toBe(143);
  });

  it("prints the same runner stand-in lines as the process runtime", async () => {
    const body = group({ image: "ghcr.io/actions/actions-runner:latest", env: [{ name: "ACTIONS_RUNNER_INPUT_JITCONFIG", secureValue: "abc123" }] });
    for (const t of [sim, proc]) await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "runner", body, POLL);
    await waitForState(sim.client, "runner", ["Succeeded"]);
    await waitForState(proc.client, "runner", ["Succeeded"]);
    const expected = runnerStandInOutput({ ACTIONS_RUNNER_INPUT_JITCONFIG: "abc123" }).lines.map((l) => `${l}\n`).join("");
    expect(await logs(sim, "runner")).toBe(expected);
    expect(await logs(proc, "runner")).toBe(expected);
  });

  it("runs hundreds of groups at once without processes", async () => {
    sim.emulator.setLimits({ containerGroupsPerRegion: 1000, standardCoresPerRegion: 1000, creates: { per5Min: 1000 }, armThrottling: { enabled: false } });
    const limit = pLimit(50);
    const names = Array.from({ length: 300 }, (_, i) => `many-${i}`);
    await Promise.all(names.map((name) => limit(() => sim.client.containerGroups.beginCreateOrUpdateAndWait(RG, name, group({ command: sh("sleep 0.5; echo ok") }), POLL))));
    const stats = sim.emulator.stats();
    expect(stats.peak.total).toBe(300);
    await until(() => sim.emulator.stats().alive.every((g) => g.state === "Succeeded"), 20_000, "all groups to succeed");
    expect(await logs(sim, "many-299")).toBe("ok\n");
  });
});
