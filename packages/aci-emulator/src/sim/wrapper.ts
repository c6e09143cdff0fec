/**
 * Wrapper scripts under the sim runtime. A wrapper is `sh -c SCRIPT NAME COMMAND…` whose
 * SCRIPT runs the wrapped command as `"$@"` and does something around it that the sim's
 * shell subset cannot interpret (traps, `wait`, `case`, `wget`…) — for example a command
 * that reports its own exit over HTTP. The sim interprets the wrapped COMMAND with its
 * timers, as any other command, and then runs SCRIPT for real with the host's /bin/sh,
 * `"$@"` standing for a command that exits at once with the simulated exit code. So what
 * the wrapper does after the command (its HTTP request, its exit code) really happens, at
 * the simulated exit, and its output lands in the container's log. Variables the script
 * `unset`s are taken out of the wrapped command's environment, as the script would.
 */
import { spawn } from "node:child_process";
import { DEFAULT_PATH } from "../runtime/runtime.js";
import { parseScript, SHELLS, SimUnsupported } from "./script.js";

export interface Wrapper {
  script: string;
  name: string;
  /** The wrapped command, as the sim runs it. */
  command: string[];
  /** Variables the script unsets (before running the command, as a wrapper that hides them does): the command does not see them. */
  unsets: string[];
}

/** The wrapper in an argv, or undefined when the argv is not one (then the sim parses it as usual). */
export function wrapperOf(argv: readonly string[]): Wrapper | undefined {
  const [shell, flag, script, name, ...command] = argv;
  if (!shell || !SHELLS.has(shell) || flag !== "-c" || script === undefined || name === undefined || command.length === 0) return undefined;
  if (!script.includes('"$@"')) return undefined;
  try {
    parseScript(script);
    return undefined; // Inside the subset: the sim interprets it whole.
  } catch (err) {
    if (err instanceof SimUnsupported)
      return {
        script,
        name,
        command,
        unsets: [...script.matchAll(/(?:^|[;\n])\s*unset\s+([A-Za-z_][A-Za-z0-9_ ]*)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)),
      };
    throw err;
  }
}

/** Runs the wrapper's script for real around an already simulated exit; resolves with the script's own exit code. */
export function finishWrapper(
  w: Wrapper,
  exitCode: number,
  env: Record<string, string>,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", w.script, w.name, "/bin/sh", "-c", `exit ${exitCode}`], {
      env: { PATH: process.env.PATH ?? DEFAULT_PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, as a container's: a wrapper may signal its whole group.
      detached: true,
    });
    child.stdout.setEncoding("utf8").on("data", write);
    child.stderr.setEncoding("utf8").on("data", write);
    const abort = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener("abort", abort, { once: true });
    child.once("error", (e) => {
      write(`sim runtime: could not run the wrapper with /bin/sh: ${e.message}\n`);
      resolve(127);
    });
    child.once("close", (code, sig) => {
      signal.removeEventListener("abort", abort);
      resolve(code ?? (sig === "SIGTERM" ? 143 : 137));
    });
  });
}
