/** What the run ran on, recorded with every result (figures only compare within one run). */
import { cpus, loadavg, totalmem } from "node:os";
import { readFileSync } from "node:fs";

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  loadAverage: number[];
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? "unknown";
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() said it
  }
  return {
    nproc: cpus().length,
    cpuModel: model.trim(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
