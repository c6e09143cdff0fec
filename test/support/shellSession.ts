/**
 * Shells for running documented commands as a user types them.
 *
 * `ShellSession` is one terminal: commands run one after another in one bash, so variables
 * and `$?` carry from one to the next. Each command's stdout, stderr and exit status come
 * back apart, and Ctrl-C reaches the running command as a terminal sends it (SIGINT to the
 * foreground processes, not to the shell).
 *
 * `Background` is a second terminal running a server (`npm start`): Ctrl-C goes to its
 * whole process group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface StepResult {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr in the order they came, as a terminal shows them. */
  output: string;
  interrupted: boolean;
  timedOut: boolean;
}

/** Processes whose parent is `pid`, with their process groups (from /proc). */
function childrenOf(pid: number): { pid: number; pgrp: number }[] {
  const out: { pid: number; pgrp: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid) out.push({ pid: Number(entry), pgrp: Number(pgrp) });
    } catch {
      // gone already
    }
  }
  return out;
}

/** A signal to a process that may have ended meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // it has ended
  }
}

function descendantsOf(pid: number): { pid: number; pgrp: number }[] {
  const direct = childrenOf(pid);
  return [...direct, ...direct.flatMap((c) => descendantsOf(c.pid))];
}

export class ShellSession {
  readonly #bash: ChildProcess;
  readonly #mark = `__docs_step_${randomBytes(6).toString("hex")}__`;
  #stdout = "";
  #stderr = "";
  #output = "";
  #wake: () => void = () => {};
  #status = 0;
  #steps = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string, env: Record<string, string>) {
    this.#bash = spawn("bash", ["--norc", "--noprofile"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] });
    this.#bash.stdout!.on("data", (d: Buffer) => { this.#stdout += d; this.#output += d; this.#wake(); });
    this.#bash.stderr!.on("data", (d: Buffer) => { this.#stderr += d; this.#output += d; this.#wake(); });
    this.#bash.once("exit", () => this.#wake());
    this.#bash.stdin!.write("__docs_return() { return \"$1\"; }\n");
  }

  /** Runs `command` as the next line of the session. `ctrlCWhen` presses Ctrl-C once it holds for the output so far. */
  run(command: string, o: { timeoutMs?: number; ctrlCWhen?: (output: string) => boolean } = {}): Promise<StepResult> {
    const next = this.#queue.then(() => this.#run(command, o.timeoutMs ?? 60_000, o.ctrlCWhen));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #run(command: string, timeoutMs: number, ctrlCWhen?: (output: string) => boolean): Promise<StepResult> {
    const file = path.join(this.dir, `.step-${this.#mark}-${++this.#steps}.sh`);
    writeFileSync(file, `${command}\n`);
    this.#stdout = this.#stderr = this.#output = "";
    // The command runs in the session itself (so its variables stay), after `$?` is set to the previous command's status.
    this.#bash.stdin!.write(`__docs_return ${this.#status}; source '${file}' </dev/null; __docs_s=$?; printf '\\n${this.#mark} %s\\n' "$__docs_s"; printf '\\n${this.#mark}\\n' >&2\n`);
    const done = new RegExp(`\\n${this.#mark} (\\d+)\\n`);
    let interrupted = false;
    let timedOut = false;
    const deadline = Date.now() + timeoutMs;
    while (!(done.test(this.#stdout) && this.#stderr.includes(`\n${this.#mark}\n`))) {
      if (this.#bash.exitCode !== null) throw new Error(`the shell ended while running ${command}; output: ${this.#output}`);
      if (ctrlCWhen && !interrupted && ctrlCWhen(this.#output)) {
        interrupted = true;
        this.ctrlC();
      }
      if (!timedOut && Date.now() > deadline) {
        timedOut = true;
        for (const p of descendantsOf(this.#bash.pid!)) signal(p.pid, "SIGKILL");
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.#wake = () => { clearTimeout(timer); resolve(); };
      });
    }
    this.#status = Number(done.exec(this.#stdout)![1]);
    const strip = (s: string) => s.replace(new RegExp(`\\n${this.#mark}( \\d+)?\\n`, "g"), "");
    return { status: this.#status, stdout: strip(this.#stdout), stderr: strip(this.#stderr), output: strip(this.#output), interrupted, timedOut };
  }

  /** What a terminal does on Ctrl-C: SIGINT to the foreground command (the shell's process group, not the shell). */
  ctrlC(): void {
    const shell = this.#bash.pid!;
    const group = Number(readFileSync(`/proc/${shell}/stat`, "utf8").split(") ")[1]!.split(" ")[2]);
    for (const p of descendantsOf(shell)) if (p.pgrp === group) signal(p.pid, "SIGINT");
  }

  async close(): Promise<void> {
    for (const p of descendantsOf(this.#bash.pid!)) signal(p.pid, "SIGKILL");
    this.#bash.stdin!.end();
    if (this.#bash.exitCode === null) await new Promise((resolve) => this.#bash.once("exit", resolve));
  }
}

export class Background {
  readonly child: ChildProcess;
  #output = "";
  readonly exited: Promise<number | null>;

  constructor(readonly command: string, cwd: string, env: Record<string, string>) {
    // Its own process group, as a terminal's foreground job.
    this.child = spawn("bash", ["--norc", "--noprofile", "-c", command], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => (this.#output += d));
    this.child.stderr!.on("data", (d: Buffer) => (this.#output += d));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  output(): string {
    return this.#output;
  }

  /** Resolves once `test` holds for the output; rejects if the command ends or time runs out first. */
  async waitFor(test: (output: string) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.#output)) {
      if (this.child.exitCode !== null) throw new Error(`\`${this.command}\` ended (${this.child.exitCode}) before its output showed:\n${this.#output}`);
      if (Date.now() > deadline) throw new Error(`\`${this.command}\` did not show its output in ${timeoutMs} ms:\n${this.#output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ctrl-C in its terminal; SIGKILL to the group if it has not ended after `graceMs`. */
  async ctrlC(graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    signal(-this.child.pid!, "SIGINT");
    const timer = setTimeout(() => signal(-this.child.pid!, "SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
