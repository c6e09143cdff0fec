import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LoopbackAllocator } from "../src/network.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { group, isRunning, POLL, RG, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
let scratch: string;
beforeAll(async () => {
  t = await startTestEmulator({ runtime: "process" });
  scratch = mkdtempSync(path.join(os.tmpdir(), "aci-process-test-"));
});
beforeEach(async () => {
  await t.emulator.reset();
});
afterAll(async () => {
  await t.emulator.close();
  rmSync(scratch, { recursive: true, force: true });
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const logs = async (name: string) => (await t.client.containers.listLogs(RG, name, "main")).content ?? "";
const alive = isRunning;

describe("process runtime", () => {
  it("gives the process its environment variables and secure values, and records its exit code", async () => {
    const body = group({
      command: sh('echo "plain=$PLAIN"; echo "secret=$SECRET"; echo oops >&2; exit 7'),
      env: [{ name: "PLAIN", value: "hello" }, { name: "SECRET", secureValue: "hunter2" }],
    });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "env", body, POLL);
    const g = await waitForState(t.client, "env", ["Failed"]);
    expect(g.containers[0]!.instanceView?.currentState).toMatchObject({ state: "Terminated", exitCode: 7, detailStatus: "Error" });
    expect(await logs("env")).toBe("plain=hello\nsecret=hunter2\noops\n");
    expect(JSON.stringify(g)).not.toContain("hunter2");
  });

  it("runs a command without a shell as plain argv", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "argv", group({ command: ["echo", "$HOME", "stays literal"] }), POLL);
    await waitForState(t.client, "argv", ["Succeeded"]);
    expect(await logs("argv")).toBe("$HOME stays literal\n");
  });

  it("restarts under OnFailure until the command succeeds", async () => {
    const counter = path.join(scratch, "attempts");
    const script = `n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$COUNTER"; echo "attempt $n"; [ $n -ge 3 ]`;
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "retry", group({ command: sh(script), restartPolicy: "OnFailure", env: [{ name: "COUNTER", value: counter }] }), POLL);
    const g = await waitForState(t.client, "retry", ["Succeeded"]);
    expect(g.containers[0]!.instanceView).toMatchObject({ restartCount: 2, currentState: { exitCode: 0 }, previousState: { exitCode: 1 } });
    expect(await logs("retry")).toBe("attempt 1\nattempt 2\nattempt 3\n");
  });

  it("fails a container whose executable does not exist with exit code 127", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "missing", group({ command: ["definitely-not-installed-here"] }), POLL);
    const g = await waitForState(t.client, "missing", ["Failed"]);
    expect(g.containers[0]!.instanceView?.currentState?.exitCode).toBe(127);
    expect(await logs("missing")).toContain('exec: "definitely-not-installed-here": executable file not found in $PATH');
  });

  it("kills the whole process tree on stop and on delete", async () => {
    const script = "sleep 300 & echo child=$!; wait";
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "tree", group({ command: sh(script) }), POLL);
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "tree2", group({ command: sh(script) }), POLL);
    const childOf = async (name: string) => Number((await until(async () => /child=(\d+)/.exec(await logs(name))))[1]);
    const [a, b] = [await childOf("tree"), await childOf("tree2")];
    expect(alive(a) && alive(b)).toBe(true);
    await t.client.containerGroups.stop(RG, "tree");
    await until(() => !alive(a), 5000, "the stopped group's grandchild to die");
    await t.client.containerGroups.beginDeleteAndWait(RG, "tree2");
    await until(() => !alive(b), 5000, "the deleted group's grandchild to die");
  });

  it("serves the aci-helloworld stand-in on the address and port the group reports", async () => {
    const body = group({ image: "mcr.microsoft.com/azuredocs/aci-helloworld:latest", ports: [80], dnsNameLabel: "hello-burst" });
    const created = await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "hello", body, POLL);
    const ip = created.ipAddress!;
    expect(ip.ip).toMatch(/^127\.0\.0\.\d+$/);
    expect(ip.fqdn).toBe("hello-burst.eastus.azurecontainer.io");
    const port = ip.ports[0]!.port;
    await until(async () => (await logs("hello")).includes("listening on port 80"));
    const res = await fetch(`http://${ip.ip}:${port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Welcome to Azure Container Instances!");
    await until(async () => (await logs("hello")).includes('"GET / HTTP/1.1" 200'));
    await t.client.containerGroups.beginDeleteAndWait(RG, "hello");
    await expect(fetch(`http://${ip.ip}:${port}/`)).rejects.toThrow();
  });

  it("falls back to 127.0.0.1 and free ports when it cannot have its own loopback address", async () => {
    const notLinux = new LoopbackAllocator(false);
    const address = await notLinux.allocate([80, 8080]);
    expect(address.ip).toBe("127.0.0.1");
    expect(address.ports.map((p) => p.port)).toEqual([80, 8080]);
    for (const p of address.ports) expect(p.hostPort).toBeGreaterThan(1023);
  });

  it.runIf(process.platform === "linux")("gives each group its own loopback address on Linux", async () => {
    const linux = new LoopbackAllocator(true);
    const own = await linux.allocate([8080]);
    expect(own.ip).toMatch(/^127\.0\.0\.(?!1$)\d+$/);
    expect((await linux.allocate([8080])).ip).not.toBe(own.ip);
  });

  it("runs the actions-runner stand-in, which reports its JIT configuration without printing it", async () => {
    const jit = "eyJqaXQiOiJjb25maWcifQ==".repeat(4);
    const body = group({ image: "ghcr.io/actions/actions-runner:2.321.0", env: [{ name: "ACTIONS_RUNNER_INPUT_JITCONFIG", secureValue: jit }] });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "runner", body, POLL);
    await waitForState(t.client, "runner", ["Succeeded"]);
    const content = await logs("runner");
    expect(content).toContain(`received JIT configuration in ACTIONS_RUNNER_INPUT_JITCONFIG (${jit.length} characters)`);
    expect(content).not.toContain(jit);
  });

  it("plays the runner image's own run.sh when a group's command names it", async () => {
    const body = group({ image: "ghcr.io/actions/actions-runner:2.321.0", command: ["/home/runner/run.sh"], env: [{ name: "ACTIONS_RUNNER_INPUT_JITCONFIG", secureValue: "abc" }] });
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "runner-cmd", body, POLL);
    await waitForState(t.client, "runner-cmd", ["Succeeded"]);
    expect(await logs("runner-cmd")).toContain("received JIT configuration in ACTIONS_RUNNER_INPUT_JITCONFIG (3 characters)");
  });
});
