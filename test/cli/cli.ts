/** Runs the built `burst` CLI as a subprocess, as a user would. */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "../support/hostProcess.js";

export const CLI = path.join(ROOT, "dist/src/cli/main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) satisfies `test`; rejects if the process ends first. */
  waitForOutput(test: (out: string) => boolean, stream?: "stdout" | "stderr"): Promise<string>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: Record<string, string>, input?: string): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    // A clean environment for the CLI's own settings, so the developer's BURST_* never leak in.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d: Buffer) => { out += d.toString(); waiters.forEach((w) => w()); });
  child.stderr!.on("data", (d: Buffer) => { err += d.toString(); waiters.forEach((w) => w()); });
  child.stdin!.end(input ?? "");
  const done = new Promise<CliResult>((resolve) => child.once("close", (code) => { waiters.forEach((w) => w()); resolve({ code, stdout: out, stderr: err }); }));
  let ended = false;
  void done.then(() => { ended = true; });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitForOutput(test, stream = "stdout") {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = stream === "stdout" ? out : err;
          if (test(text)) resolve(text);
          else if (ended || child.exitCode !== null) reject(new Error(`burst ${args.join(" ")} ended before the expected output; stdout: ${out} stderr: ${err}`));
        };
        waiters.push(check);
        check();
      });
    },
  };
}

export function cli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return startCli(args, env, input).done;
}
