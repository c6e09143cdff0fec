/**
 * The `process` runtime: every container is a local child process in its own process
 * group (so stop/delete kill everything it started). No isolation: it runs as the
 * emulator's user, on the host's filesystem and network. Its working directory and
 * HOME are a fresh temporary folder, removed when the container has exited.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { standInScript } from "../images.js";
import { LoopbackAllocator } from "../network.js";
import { DEFAULT_PATH, LineSplitter, networkEnv, type ContainerRuntime, type GroupAddress, type Launch, type RunningContainer } from "./runtime.js";


function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? os.constants.signals[signal] : undefined;
  return 128 + (number ?? 9);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export class ProcessRuntime implements ContainerRuntime {
  readonly kind = "process" as const;
  private readonly live = new Map<number, RunningContainer>();
  private readonly network = new LoopbackAllocator();
  // If the emulator's own process exits without close(), take the children with it.
  private readonly onParentExit = () => {
    for (const pid of this.live.keys()) killGroup(pid, "SIGKILL");
  };

  constructor() {
    process.on("exit", this.onParentExit);
  }

  allocateAddress(ports: number[]): Promise<GroupAddress> {
    return this.network.allocate(ports);
  }

  releaseAddress(address: GroupAddress): void {
    this.network.release(address);
  }

  launch(launch: Launch): RunningContainer {
    const argv = this.argvFor(launch);
    const cwd = mkdtempSync(path.join(os.tmpdir(), "aci-emulator-"));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? DEFAULT_PATH,
      HOME: cwd,
      HOSTNAME: launch.label.split("/")[1] ?? "container",
      ...networkEnv(launch.network),
      ...(launch.run.kind === "standIn" && launch.run.entry.title ? { ACI_EMULATOR_PAGE_TITLE: launch.run.entry.title } : {}),
      ...launch.env,
    };
    const out = new LineSplitter(launch.onLine);
    const err = new LineSplitter(launch.onLine);
    let finished = false;
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const finish = (exitCode: number, pid: number | undefined) => {
      if (finished) return;
      finished = true;
      out.end();
      err.end();
      if (pid !== undefined) {
        // PID 1 of a container going away ends everything else in it.
        killGroup(pid, "SIGKILL");
        this.live.delete(pid);
      }
      rmSync(cwd, { recursive: true, force: true });
      launch.onExit(exitCode);
      resolveExited();
    };

    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (c: string) => out.write(c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => err.write(c));
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // errors after spawn surface through 'close'
      const reason = e.code === "ENOENT" ? "executable file not found in $PATH" : e.message;
      launch.onLine(`exec: "${argv[0]}": ${reason}`);
      finish(e.code === "EACCES" ? 126 : 127, undefined);
    });
    child.once("close", (code, signal) => finish(exitCodeOf(code, signal), child.pid));

    const running: RunningContainer = {
      kill: async (graceMs) => {
        if (finished || child.pid === undefined) return exited;
        killGroup(child.pid, "SIGTERM");
        const timer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
    if (child.pid !== undefined) this.live.set(child.pid, running);
    return running;
  }

  async close(): Promise<void> {
    await Promise.all([...this.live.values()].map((c) => c.kill(1000)));
    process.off("exit", this.onParentExit);
  }

  private argvFor(launch: Launch): string[] {
    if (launch.run.kind === "argv") return launch.run.argv;
    switch (launch.run.entry.standIn) {
      case "web":
        return [process.execPath, standInScript("web-server.mjs")];
      case "runner":
        return [process.execPath, standInScript("actions-runner.mjs")];
      case "exit0":
        return ["/bin/sh", "-c", "exit 0"];
    }
  }
}
