/**
 * The emulator's command line, as one flat table of flags. parseCli is pure, so the
 * flags are tested without starting anything; main.ts wires it to startEmulator.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { EmulatorOptions } from "./index.js";
import type { FaultsInput, LimitsPatch, TimingsPatch } from "./config.js";

export class CliError extends Error {
  override name = "CliError";
}

export const HELP = `Usage: aci-emulator [options]

Runs the Azure Container Instances emulator (ARM api-version 2023-05-01).

Server
  --port N                     TCP port (default: a free port; the URL is printed)
  --host ADDRESS               address to listen on (default 127.0.0.1)
  --runtime process|sim        process: commands run as local child processes (default)
                               sim: a documented shell subset is simulated with timers
  --any-host                   answer any Host header (default: loopback names only)
  --state-file PATH            keep container groups across restarts in this JSON file:
                               saved every second while anything runs and on exit; on
                               start, groups that ran when it stopped show Terminated at
                               that moment, billed up to it, not restarted (default: none;
                               on exit every group is deleted)
  The environment variable ACI_EMULATOR_TOKEN, when set, is a token every call must
  carry as "Authorization: Bearer <token>" (kept out of the command line, where any
  user could read it).

Lifecycle timings (milliseconds)
  --provisioning-delay-ms N    shorthand for --pull-delay-ms N --start-delay-ms 0
  --schedule-delay-ms N        PUT accepted → image pull starts (default 0)
  --pull-delay-ms N            image pull; billing starts here (default 1000)
  --start-delay-ms N           pulled → started (default 250)
  --restart-backoff-ms N       first back-off for OnFailure/Always restarts (default 1000)
  --spot-restart-delay-ms N    Spot eviction → group starts again (default 2000)
  --kill-grace-ms N            SIGTERM → SIGKILL on stop/delete (default 2000)

Live fidelity (where recordings of the live service differ)
  --container-events absent|present|late
                               container instanceView.events: absent (no key, as live
                               2023-05-01 answers mostly are; default), present, or late
                               (each event shows --late-events-ms after it happened,
                               newest first)
  --late-events-ms N           (default 5000)
  --cost-report-delay-ms N     the Cost Management query shows a billing interval this
                               long after it ended (default 10000)

Limits (defaults are the live ACI values)
  --max-container-groups N     container groups per region per subscription (100)
  --max-cores N                standard cores per region per subscription (100)
  --creates-per-5min N         (100)    --creates-per-hour N   (300)
  --deletes-per-5min N         (100)    --deletes-per-hour N   (300)
  --no-arm-throttling          switch off ARM's read/write/delete token buckets
  --list-page-size N           groups per list page before nextLink (100)
  --limits JSON|@FILE          any limits, as the JSON of PUT /_emulator/limits

Faults
  --seed N                     seed for every random fault (default 1)
  --error-rate R               fraction of ARM calls answered 500/503 (0..1)
  --lost-response-rate R       fraction of ARM calls handled, then answered 500
  --throttle-storm-ms N        throttle every ARM call (429) for N ms from start
  --capacity-regions A,B       creates in these regions fail with the capacity error
  --capacity-rate R            creates anywhere fail with it at this rate
  --capacity-mode sync|async   sync: the PUT gets 409; async: the operation fails
  --capacity-priority Regular|Spot
                               the capacity fault refuses only creates of this priority (default: both)
  --slow-provisioning-ms N     add N ms to image pulls (of every group unless a rate is given)
  --slow-provisioning-rate R
  --platform-restart-rate R    the platform restarts a container of new groups at this rate
  --spot-eviction-rate R       Spot groups are evicted (and restarted) at this rate
  --spot-eviction-regions A,B  only Spot groups in these regions are evicted (needs a rate)
  --inaccessible-images A,B    images that fail with InaccessibleImage
  --faults JSON|@FILE          any faults, as the JSON of PUT /_emulator/faults

  -h, --help                   show this help
`;

const numberFlags = [
  "port", "provisioning-delay-ms", "schedule-delay-ms", "pull-delay-ms", "start-delay-ms", "restart-backoff-ms",
  "spot-restart-delay-ms", "kill-grace-ms", "max-container-groups", "max-cores", "creates-per-5min", "creates-per-hour",
  "deletes-per-5min", "deletes-per-hour", "list-page-size", "seed", "error-rate", "lost-response-rate", "throttle-storm-ms",
  "capacity-rate", "slow-provisioning-ms", "slow-provisioning-rate", "platform-restart-rate", "spot-eviction-rate",
  "late-events-ms", "cost-report-delay-ms",
] as const;

export type CliResult = { help: true } | { help: false; options: EmulatorOptions };

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const stringOptions = Object.fromEntries(
    [...numberFlags, "host", "runtime", "state-file", "limits", "faults", "capacity-regions", "capacity-mode", "capacity-priority", "spot-eviction-regions", "inaccessible-images", "container-events"].map((f) => [f, { type: "string" as const }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...stringOptions, "no-arm-throttling": { type: "boolean" }, "any-host": { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (values.help) return { help: true };

  const num = (flag: (typeof numberFlags)[number]): number | undefined => {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < 0) throw new CliError(`--${flag}: expected a non-negative number, got '${raw}'`);
    if (flag.endsWith("rate") && n > 1) throw new CliError(`--${flag}: expected a rate between 0 and 1, got '${raw}'`);
    return n;
  };
  const list = (flag: string) => (values[flag] as string | undefined)?.split(",").map((s) => s.trim()).filter(Boolean);
  const json = (flag: string): Record<string, unknown> => {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) return {};
    try {
      const text = raw.startsWith("@") ? readFileSync(raw.slice(1), "utf8") : raw;
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object");
      return parsed as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`--${flag}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const stateFile = values["state-file"] as string | undefined;
  if (stateFile !== undefined && stateFile.trim() === "") throw new CliError("--state-file: expected a file path, got ''");
  const runtime = (values.runtime as string | undefined) ?? "process";
  if (runtime !== "process" && runtime !== "sim") throw new CliError(`--runtime: expected 'process' or 'sim', got '${runtime}'`);
  const port = num("port");
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new CliError(`--port: expected a port number 0-65535, got '${values.port}'`);
  const mode = values["capacity-mode"] as string | undefined;
  if (mode !== undefined && mode !== "sync" && mode !== "async") throw new CliError(`--capacity-mode: expected 'sync' or 'async', got '${mode}'`);
  const priority = values["capacity-priority"] as string | undefined;
  if (priority !== undefined && priority !== "Regular" && priority !== "Spot") throw new CliError(`--capacity-priority: expected 'Regular' or 'Spot', got '${priority}'`);

  const events = values["container-events"] as string | undefined;
  if (events !== undefined && events !== "absent" && events !== "present" && events !== "late") {
    throw new CliError(`--container-events: expected 'absent', 'present' or 'late', got '${events}'`);
  }
  const fidelity = prune({ containerEvents: events as "absent" | "present" | "late" | undefined, lateEventsMs: num("late-events-ms") });
  const costs = prune({ reportDelayMs: num("cost-report-delay-ms") });

  const provisioning = num("provisioning-delay-ms");
  const timings: TimingsPatch = prune({
    scheduleDelayMs: num("schedule-delay-ms"),
    pullDelayMs: num("pull-delay-ms") ?? provisioning,
    startDelayMs: num("start-delay-ms") ?? (provisioning !== undefined ? 0 : undefined),
    restartBackoffMs: num("restart-backoff-ms"),
    spotRestartDelayMs: num("spot-restart-delay-ms"),
    killGraceMs: num("kill-grace-ms"),
  });
  const fromJson = json("limits");
  const limits: LimitsPatch = {
    ...fromJson,
    ...prune({
      containerGroupsPerRegion: num("max-container-groups"),
      standardCoresPerRegion: num("max-cores"),
      listPageSize: num("list-page-size"),
    }),
  };
  const creates = prune({ per5Min: num("creates-per-5min"), perHour: num("creates-per-hour") });
  const deletes = prune({ per5Min: num("deletes-per-5min"), perHour: num("deletes-per-hour") });
  if (Object.keys(creates).length) limits.creates = { ...(fromJson.creates as object), ...creates };
  if (Object.keys(deletes).length) limits.deletes = { ...(fromJson.deletes as object), ...deletes };
  if (values["no-arm-throttling"]) limits.armThrottling = { ...(fromJson.armThrottling as object), enabled: false };

  const f = json("faults") as FaultsInput & Record<string, unknown>;
  const slowMs = num("slow-provisioning-ms");
  const faults: FaultsInput = {
    ...f,
    ...prune({
      seed: num("seed"),
      inaccessibleImages: list("inaccessible-images"),
    }),
  };
  const errorRate = num("error-rate");
  const lostRate = num("lost-response-rate");
  if (errorRate !== undefined || lostRate !== undefined) faults.httpErrors = { ...f.httpErrors, ...prune({ rate: errorRate, lostResponseRate: lostRate }) };
  const storm = num("throttle-storm-ms");
  if (storm !== undefined) faults.throttleStorm = { ...f.throttleStorm, durationMs: storm };
  const regions = list("capacity-regions");
  const capacityRate = num("capacity-rate");
  if (regions || capacityRate !== undefined || mode || priority) {
    faults.capacity = { ...f.capacity, ...prune({ regions, rate: capacityRate, mode: mode as "sync" | "async" | undefined, priority: priority as "Regular" | "Spot" | undefined }) };
  }
  if (slowMs !== undefined) faults.slowProvisioning = { ...f.slowProvisioning, extraMs: slowMs, rate: num("slow-provisioning-rate") ?? 1 };
  const restartRate = num("platform-restart-rate");
  if (restartRate !== undefined) faults.platformRestart = { ...f.platformRestart, rate: restartRate };
  const evictRate = num("spot-eviction-rate");
  const evictRegions = list("spot-eviction-regions");
  if (evictRate !== undefined || evictRegions) faults.spotEviction = { ...f.spotEviction, ...prune({ rate: evictRate, regions: evictRegions }) };

  return {
    help: false,
    options: {
      port: port ?? 0, host: (values.host as string | undefined) ?? "127.0.0.1", runtime, timings, limits, faults, fidelity, costs,
      ...(env.ACI_EMULATOR_TOKEN ? { token: env.ACI_EMULATOR_TOKEN } : {}),
      ...(values["any-host"] ? { anyHost: true } : {}),
      ...(stateFile !== undefined ? { stateFile } : {}),
    },
  };
}

function prune<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
