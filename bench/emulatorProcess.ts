/**
 * Runs an ACI emulator (sim runtime) as a child process, so its CPU is not mixed with the
 * process being measured, and reads its ground truth over the admin API.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EmulatorStats, FaultsInput, LimitsPatch } from "@burst/aci-emulator";

export interface EmulatorSetup {
  /** Image pull: every group's base delay, plus a seeded uniform extra in [0, pullJitterMs). */
  pullDelayMs: number;
  pullJitterMs: number;
  startDelayMs: number;
  seed: number;
  limits: LimitsPatch;
  /** Container events as the live service shows them (default: absent, as at 2023-05-01). */
  containerEvents?: "absent" | "present" | "late";
  /** How long after a group stops its cost shows in the Cost Management query. */
  costReportDelayMs?: number;
  /** PUT accepted → image pull starts (default 0). */
  scheduleDelayMs?: number;
}

export interface EmulatorProcess {
  url: string;
  child: ChildProcess;
  stats(): Promise<EmulatorStats>;
  /** Groups deleted so far (reads the full stats; cheap next to a storage scan). */
  deletes(): Promise<number>;
  stop(): Promise<void>;
}

export function emulatorArgs(s: EmulatorSetup): string[] {
  const faults: FaultsInput = { seed: s.seed, slowProvisioning: { rate: s.pullJitterMs > 0 ? 1 : 0, extraMs: 0, jitterMs: s.pullJitterMs } };
  return [
    "--runtime", "sim", "--port", "0",
    "--pull-delay-ms", String(s.pullDelayMs), "--start-delay-ms", String(s.startDelayMs), "--schedule-delay-ms", String(s.scheduleDelayMs ?? 0),
    "--faults", JSON.stringify(faults), "--limits", JSON.stringify(s.limits),
    ...(s.containerEvents ? ["--container-events", s.containerEvents] : []),
    ...(s.costReportDelayMs !== undefined ? ["--cost-report-delay-ms", String(s.costReportDelayMs)] : []),
  ];
}

export async function startEmulatorProcess(setup: EmulatorSetup): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.resolve("@burst/aci-emulator/main")), ...emulatorArgs(setup)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
  child.stderr!.on("data", (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start within 20 s:\n${out}`)), 20_000);
    child.stdout!.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`emulator exited during start-up:\n${out}`)); });
  });
  const stats = async (): Promise<EmulatorStats> => {
    const res = await fetch(`${url}/_emulator/stats`);
    if (!res.ok) throw new Error(`emulator stats: HTTP ${res.status}`);
    return (await res.json()) as EmulatorStats;
  };
  return {
    url,
    child,
    stats,
    deletes: async () => (await stats()).counts.deletes,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
