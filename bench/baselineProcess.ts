/** Starts the baseline dispatcher (dist/bench/baselineMain.js) and collects what it measured. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../tools/launcher/root.js";
import type { BaselineInput, BaselineOutput } from "./baseline.js";

export interface BaselineProcess {
  pid: number | undefined;
  /** Lets it start dispatching. */
  go(): void;
  /** Its measurements, once every job is done. */
  done: Promise<BaselineOutput>;
  kill(): void;
}

export async function startBaselineProcess(input: BaselineInput): Promise<BaselineProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "burst-bench-baseline-"));
  const inPath = path.join(dir, "input.json");
  const outPath = path.join(dir, "output.json");
  writeFileSync(inPath, JSON.stringify(input));
  const child = spawn(process.execPath, [path.join(ROOT, "dist/bench/baselineMain.js"), inPath, outPath], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => { if (out.length < 50_000) out += d.toString(); });
  child.stderr!.on("data", (d: Buffer) => { if (out.length < 50_000) out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baseline did not start within 20 s:\n${out}`)), 20_000);
    child.stdout!.on("data", () => { if (out.includes("ready\n")) { clearTimeout(timer); resolve(); } });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`baseline exited during start-up:\n${out}`)); });
  });
  const done = exited.then((code) => {
    try {
      if (code !== 0) throw new Error(`baseline exited with code ${code}:\n${out.slice(-4000)}`);
      return JSON.parse(readFileSync(outPath, "utf8")) as BaselineOutput;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    pid: child.pid,
    go: () => child.stdin!.end("go\n"),
    done,
    kill: () => { if (child.exitCode === null) child.kill("SIGKILL"); },
  };
}
