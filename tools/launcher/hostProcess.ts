import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { ROOT } from "./root.js";

export { ROOT };

export interface HostProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Graceful stop (SIGTERM), as Ctrl-C or a scale-in does. */
  stop(): Promise<void>;
  /** A crash: SIGKILL, nothing finishes. */
  kill(): Promise<void>;
}

/** Storage-safe unique name: lowercase letters, digits and dashes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`.toLowerCase();
}

/**
 * Starts the local Functions host (the functions-local-host command) as a child process on a free
 * port, for tests, the benchmark and the chaos suite.
 */
export async function startHostProcess(options: { appDir: string; env: Record<string, string>; nodeArgs?: string[] }): Promise<HostProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), fileURLToPath(import.meta.resolve("@burst/functions-local-host/main")), "--port", "0", "--app-dir", options.appDir], {
    env: { ...process.env, BURST_EXIT_WITH_PARENT: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start within 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    };
    child.stdout!.on("data", onData);
    void exited.then(() => { clearTimeout(timer); reject(new Error(`host exited during start-up:\n${out}`)); });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url, child, output: () => out, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
}
