/**
 * Resource use of a process, read from Linux /proc the way `ps` does: peak resident set
 * (VmHWM) and CPU time (utime + stime). Read from outside, so the host under test needs
 * no instrumentation; the baseline dispatcher reads its own with the same function.
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

export interface ProcUsage {
  /** Peak resident set, MB (VmHWM). */
  peakRssMb: number;
  /** Current resident set, MB (VmRSS). */
  rssMb: number;
  /** User + system CPU time so far, seconds. */
  cpuSeconds: number;
}

let ticks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat; 100 on every common Linux, but asked, not assumed. */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export function readProcUsage(pid: number | "self"): ProcUsage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { peakRssMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024, cpuSeconds: (utime + stime) / clockTicks() };
}

/** Reads, or undefined when the process is gone (or /proc is missing, i.e. not Linux). */
export function tryProcUsage(pid: number | "self" | undefined): ProcUsage | undefined {
  if (pid === undefined) return undefined;
  try {
    return readProcUsage(pid);
  } catch {
    return undefined;
  }
}
