/**
 * The standalone emulator. parseCli is pure and tested directly; the process tests run
 * the `aci-emulator` command from the package's build.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createAciClient } from "./client.js";
import { CliError, parseCli } from "../src/cli.js";
import { group, isRunning, POLL, RG, SUB, until } from "./helpers.js";

// The command as installed: the package's build (npm test builds first).
const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));
beforeAll(() => {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build the package first (npm run build)`);
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [mainJs, ...args], (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
  });
}

async function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [mainJs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const url = (await until(() => /listening on (http:\/\/\S+)/.exec(out), 15_000, "the emulator to print its URL"))[1]!;
  return { child, url, output: () => out };
}

describe("emulator command line", () => {
  it("maps flags onto startEmulator options", () => {
    const parsed = parseCli([
      "--port", "8780", "--runtime", "sim", "--provisioning-delay-ms", "2000", "--max-container-groups", "5",
      "--creates-per-5min", "10", "--no-arm-throttling", "--seed", "9", "--error-rate", "0.1",
      "--capacity-regions", "westeurope, eastus", "--capacity-mode", "async", "--throttle-storm-ms", "500",
      "--capacity-priority", "Spot", "--spot-eviction-regions", "East US",
      "--slow-provisioning-ms", "3000", "--spot-eviction-rate", "0.5", "--faults", '{"inaccessibleImages":["bad/*"]}',
      "--container-events", "late", "--late-events-ms", "1500", "--cost-report-delay-ms", "250",
      "--state-file", ".burst/emulator-state.json",
    ]);
    expect(parsed).toEqual({
      help: false,
      options: {
        port: 8780,
        host: "127.0.0.1",
        runtime: "sim",
        timings: { pullDelayMs: 2000, startDelayMs: 0 },
        limits: { containerGroupsPerRegion: 5, creates: { per5Min: 10 }, armThrottling: { enabled: false } },
        faults: {
          inaccessibleImages: ["bad/*"],
          seed: 9,
          httpErrors: { rate: 0.1 },
          throttleStorm: { durationMs: 500 },
          capacity: { regions: ["westeurope", "eastus"], mode: "async", priority: "Spot" },
          slowProvisioning: { extraMs: 3000, rate: 1 },
          spotEviction: { rate: 0.5, regions: ["East US"] },
        },
        fidelity: { containerEvents: "late", lateEventsMs: 1500 },
        costs: { reportDelayMs: 250 },
        stateFile: ".burst/emulator-state.json",
      },
    });
  });

  it.each([
    [["--runtime", "docker"], "--runtime: expected 'process' or 'sim', got 'docker'"],
    [["--port", "eighty"], "--port: expected a non-negative number, got 'eighty'"],
    [["--port", "70000"], "--port: expected a port number 0-65535, got '70000'"],
    [["--error-rate", "3"], "--error-rate: expected a rate between 0 and 1, got '3'"],
    [["--capacity-priority", "Low"], "--capacity-priority: expected 'Regular' or 'Spot', got 'Low'"],
    [["--limits", "{oops"], "--limits:"],
    [["--frobnicate"], "Unknown option '--frobnicate'"],
    [["--container-events", "sometimes"], "--container-events: expected 'absent', 'present' or 'late', got 'sometimes'"],
    [["--state-file", ""], "--state-file: expected a file path, got ''"],
  ])("refuses %j with a clear message", (args, message) => {
    expect(() => parseCli(args)).toThrow(CliError);
    expect(() => parseCli(args)).toThrow(message);
  });

  it("prints its help and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: aci-emulator [options]");
    expect(r.stdout).toContain("--runtime process|sim");
  });

  it("exits 2 with the reason for a bad flag", async () => {
    const r = await run(["--runtime", "docker"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("aci-emulator: --runtime: expected 'process' or 'sim', got 'docker'\n");
  });

  it("serves the SDK, and on SIGTERM kills every container process and exits 0", async () => {
    const { child, url, output } = await startCli(["--runtime", "process", "--pull-delay-ms", "20", "--start-delay-ms", "0"]);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const client = createAciClient({ subscriptionId: SUB, endpoint: url });
      await client.containerGroups.beginCreateOrUpdateAndWait(RG, "long", group({ command: ["/bin/sh", "-c", "echo pid=$$; sleep 300"] }), POLL);
      const pid = Number((await until(async () => /pid=(\d+)/.exec((await client.containers.listLogs(RG, "long", "main")).content ?? "")))[1]);
      const running = () => isRunning(pid);
      expect(running()).toBe(true);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output()).toContain("SIGTERM, deleting all container groups");
      await until(() => !running(), 5000, "the container process to die");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("with --state-file, on SIGTERM kills every container process but keeps the groups, and the next start shows them stopped then", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aci-cli-state-"));
    const file = path.join(dir, "state.json");
    const first = await startCli(["--runtime", "process", "--pull-delay-ms", "20", "--start-delay-ms", "0", "--state-file", file]);
    const exited = new Promise<number | null>((resolve) => first.child.once("exit", (code) => resolve(code)));
    let second: Awaited<ReturnType<typeof startCli>> | undefined;
    try {
      const client = createAciClient({ subscriptionId: SUB, endpoint: first.url });
      await client.containerGroups.beginCreateOrUpdateAndWait(RG, "kept", group({ command: ["/bin/sh", "-c", "echo pid=$$; sleep 300"] }), POLL);
      const pid = Number((await until(async () => /pid=(\d+)/.exec((await client.containers.listLogs(RG, "kept", "main")).content ?? "")))[1]);
      first.child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(first.output()).toContain(`SIGTERM, saving container groups to ${file}`);
      await until(() => !isRunning(pid), 5000, "the container process to die");

      second = await startCli(["--runtime", "process", "--state-file", file]);
      await until(() => second!.output().includes("restored"), 5000, "the restore line");
      expect(second.output()).toContain(`restored 1 container group(s) from ${file}; 1 of them ran when the emulator stopped`);
      const kept = await createAciClient({ subscriptionId: SUB, endpoint: second.url }).containerGroups.get(RG, "kept");
      expect(kept.instanceView?.state).toBe("Failed");
      expect(kept.containers[0]!.instanceView?.currentState?.state).toBe("Terminated");
      expect(isRunning(pid)).toBe(false);
    } finally {
      if (first.child.exitCode === null) first.child.kill("SIGKILL");
      if (second && second.child.exitCode === null) second.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
