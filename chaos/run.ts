/**
 * The chaos suite: runs a few hundred jobs through the whole local stack — Azurite
 * (persistent, restarted mid-run), the ACI emulator (sim runtime, with 429 storms,
 * random 500/503s and lost responses, capacity errors in one region, slow
 * provisioning) and several local hosts killed with SIGKILL at random moments and
 * restarted — while duplicating submissions and internal messages, and while Storage
 * throttles (a fault proxy in front of Azurite answers a share of requests, and every
 * request for a few seconds, with 503 ServerBusy or 500 OperationTimedOut). Then it runs
 * the reconciler and checks Burst's invariants. Every figure in the report is measured.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { QueueServiceClient } from "@azure/storage-queue";
import { connectionStringFor, startAzurite, type RunningAzurite } from "../tools/launcher/azurite.js";
import { startStorageProxy } from "./storageProxy.js";
import { ROOT, startHostProcess, type HostProcess } from "../tools/launcher/hostProcess.js";
import { startEmulator, type FaultsInput } from "@burst/aci-emulator";
import { loadConfig } from "../src/config.js";
import { buildDeps } from "../src/composition.js";
import { jobIdForKey } from "../src/scheduler/ids.js";
import { reconcile } from "../src/scheduler/reconcile.js";
import { isFinal } from "../src/jobState.js";
import type { JobRecord } from "../src/model.js";
import { BUILT_IN_PRICES } from "../src/pricing.js";
import { rng, between } from "./rng.js";
import { makeArrayJob, makeJobs } from "./workload.js";
import { checkInvariants, type Samples } from "./invariants.js";
import { scanStorage } from "./scan.js";

export interface ChaosOptions {
  jobs: number;
  hosts: number;
  seed: number;
  /** Random gap between host kills, in ms. */
  killGapMs: [number, number];
  azuriteRestarts: number;
  /** Share of jobs submitted twice (same idempotencyKey, different messages). */
  duplicateShare: number;
  maxDurationMs: number;
  /** Children of one array job added to the workload (0: none). */
  arrayChildren?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  jobs: number;
  /** Children of the array job, each an ordinary job besides the `jobs` above. */
  arrayChildren: number;
  finalStates: Record<string, number>;
  kills: number;
  azuriteRestarts: number;
  duplicateSubmissions: number;
  duplicatedInternalMessages: number;
  faults: { injectedErrors: number; lostResponses: number; throttled: number; capacityWindowMs: number; throttleStormMs: number; storageFaults: number; storageOutageMs: number };
  reconcilerActions: number;
  violations: string[];
  durationSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const random = rng(o.seed);
  const secret = `chaos-secret-${randomBytes(8).toString("hex")}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "burst-chaos-"));
  let azurite: RunningAzurite = await startAzurite({ location: dir });
  // A restart comes back on the same ports: the fault proxy and the hosts point at them.
  const ports = azurite.ports;
  // The hosts reach Storage through the fault proxy; the checks below go straight to Azurite.
  const proxy = await startStorageProxy(ports, rng(o.seed ^ 0x5bd1e995));
  const viaProxy = connectionStringFor(proxy.ports);
  // ACI's create window (100 per 5 minutes) is raised to 150: a long run still outgrows it, so
  // throttled launches are part of the chaos, without the run taking most of an hour.
  const emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 300, startDelayMs: 100, killGraceMs: 200 }, limits: { creates: { per5Min: 150, perHour: 1000 } } });
  const caps = { east: 6, west: 4 };
  const eastRate = (0.5 * 0.0405 + 0.5 * 0.00445) / 3600;
  // Each east job reserves 620 s at its rate; the budget fits four such reservations, fewer than the cap.
  const budget = eastRate * 620 * 4.2;
  const rgs = { east: `chaos-east-${o.seed}`, west: `chaos-west-${o.seed}` };
  const env: Record<string, string> = {
    AzureWebJobsStorage: viaProxy,
    BURST_STORAGE_PREFIX: `chaos${o.seed}`,
    BURST_ARM_ENDPOINT: emulator.url,
    BURST_POOLS: JSON.stringify({
      pools: {
        east: { maxConcurrency: caps.east, resourceGroup: rgs.east, region: "eastus", budget: { dailyUsd: budget }, maxPlatformRetries: 8 },
        west: { maxConcurrency: caps.west, resourceGroup: rgs.west, region: "westus", prices: { ...BUILT_IN_PRICES["eastus/Standard"]!, source: "chaos test: East US rates", date: "2026" }, maxPlatformRetries: 8 },
      },
    }),
    BURST_SECRET_KEY: randomBytes(32).toString("base64"),
    BURST_HOST_ID: `chaos-${o.seed}`,
    BURST_LOCAL_QUEUE_LEASE_SECONDS: "8",
    BURST_RECONCILE_SCHEDULE: "*/5 * * * * *",
  };
  const deps = buildDeps(loadConfig({ ...env, AzureWebJobsStorage: azurite.connectionString }), { info() {}, warn() {}, error() {} });
  const hosts: (HostProcess | undefined)[] = [];
  const outputs: string[] = [];
  const spawnHost = async (i: number) => {
    const h = await startHostProcess({ appDir: ROOT, env });
    hosts[i] = h;
    return h;
  };
  const report: ChaosReport = {
    seed: o.seed, jobs: o.jobs, arrayChildren: o.arrayChildren ?? 0, finalStates: {}, kills: 0, azuriteRestarts: 0, duplicateSubmissions: 0, duplicatedInternalMessages: 0,
    faults: { injectedErrors: 0, lostResponses: 0, throttled: 0, capacityWindowMs: 0, throttleStormMs: 0, storageFaults: 0, storageOutageMs: 0 }, reconcilerActions: 0, violations: [], durationSeconds: 0,
  };
  const samples: Samples = { maxAlive: { [rgs.east]: 0, [rgs.west]: 0 }, maxCommittedUsd: 0, budgetUsd: budget };
  let running = true;
  const background: Promise<unknown>[] = [];

  try {
    for (let i = 0; i < o.hosts; i++) await spawnHost(i);
    const baseFaults: FaultsInput = {
      seed: o.seed,
      httpErrors: { rate: 0.02, lostResponseRate: 0.01 },
      slowProvisioning: { rate: 0.2, extraMs: 2000 },
    };
    emulator.setFaults(baseFaults);

    // Faults on a timeline: a capacity outage in westus, then a 429 storm.
    background.push((async () => {
      await sleep(8_000);
      if (!running) return;
      emulator.setFaults({ ...baseFaults, capacity: { regions: ["westus"] } });
      await sleep(10_000);
      report.faults.capacityWindowMs = 10_000;
      emulator.setFaults(baseFaults);
      await sleep(5_000);
      if (!running) return;
      emulator.setFaults({ ...baseFaults, throttleStorm: { durationMs: 4_000, retryAfterSeconds: 1 } });
      report.faults.throttleStormMs = 4_000;
    })());

    // Storage throttles: a steady share of requests all along, and a few seconds of nothing but.
    proxy.faults.rate = 0.03;
    background.push((async () => {
      await sleep(12_000);
      if (!running) return;
      proxy.faults.outageUntil = Date.now() + 6_000;
      report.faults.storageOutageMs = 6_000;
    })());

    // Host crashes: SIGKILL a random host at random moments, then start a new one.
    background.push((async () => {
      while (running) {
        await sleep(between(random, o.killGapMs[0], o.killGapMs[1]));
        if (!running) break;
        const i = Math.floor(random() * o.hosts);
        const h = hosts[i];
        if (!h) continue;
        hosts[i] = undefined;
        outputs.push(h.output());
        await h.kill();
        report.kills++;
        log(`killed host ${i} (kill #${report.kills})`);
        await sleep(300);
        await spawnHost(i).catch((err) => log(`restart of host ${i} failed: ${String(err)}`));
      }
    })());

    // Azurite restarts, with persistence on.
    background.push((async () => {
      for (let k = 0; k < o.azuriteRestarts && running; k++) {
        await sleep(between(random, 10_000, 25_000));
        if (!running) break;
        await azurite.stop();
        await sleep(500);
        azurite = await startAzurite({ ports, location: dir });
        report.azuriteRestarts++;
        log(`restarted Azurite (#${report.azuriteRestarts})`);
      }
    })());

    // Submissions: every job once, some twice (another message, same idempotencyKey), over a short ramp.
    const jobs = makeJobs(o.jobs, o.seed, random, secret);
    if (o.arrayChildren) jobs.push(makeArrayJob(jobs.length, o.arrayChildren, o.seed, secret));
    const ids = jobs.map((j) => jobIdForKey(j.pool, `chaos-${o.seed}-${j.index}`));
    const queue = () => QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(deps.config.names.jobsQueue);
    await queue().createIfNotExists();
    for (const j of jobs) {
      const body = Buffer.from(JSON.stringify(j.spec)).toString("base64");
      const copies = random() < o.duplicateShare ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        for (;;) {
          try {
            await queue().sendMessage(body);
            break;
          } catch {
            await sleep(200); // Azurite restarting
          }
        }
      }
      report.duplicateSubmissions += copies - 1;
      await sleep(between(random, 0, 60));
    }
    log(`submitted ${jobs.length} jobs (+${report.duplicateSubmissions} duplicates)`);

    // Duplicate internal messages: a second launch or poll for live jobs, as at-least-once delivery may.
    background.push((async () => {
      while (running) {
        await sleep(1_500);
        try {
          for (const id of ids.filter(() => random() < 0.05)) {
            const j = (await deps.jobs.get(id))?.value;
            if (!j) continue;
            if (j.state === "Running") await deps.outbox.send("monitor", { jobId: id, attempt: j.attempts.at(-1)!.n, seq: j.monitorSeq });
            else if (j.state === "Admitted" || j.state === "Launching" || j.state === "Waiting") await deps.outbox.send("launch", { jobId: id });
            else continue;
            report.duplicatedInternalMessages++;
          }
        } catch {
          // Azurite restarting
        }
      }
    })());

    // Sample the invariants that a final snapshot cannot show: live groups per pool, money committed.
    background.push((async () => {
      while (running) {
        const stats = emulator.stats();
        for (const rg of Object.values(rgs)) {
          samples.maxAlive[rg] = Math.max(samples.maxAlive[rg] ?? 0, stats.alive.filter((g) => g.resourceGroup === rg).length);
        }
        try {
          const snap = await deps.ledger.snapshot("east", new Date());
          const reserved = Object.values(snap.holders).reduce((s, h) => s + h.reservedUsd, 0);
          samples.maxCommittedUsd = Math.max(samples.maxCommittedUsd, snap.spentDayUsd + reserved);
        } catch {
          // Azurite restarting
        }
        await sleep(200);
      }
    })());

    // Wait until every job is final.
    const deadline = started + o.maxDurationMs;
    let pending = new Set(ids);
    while (pending.size > 0 && Date.now() < deadline) {
      await sleep(1_000);
      const next = new Set<string>();
      for (const id of pending) {
        const j = await deps.jobs.get(id).catch(() => "unknown" as const);
        if (j === "unknown" || !j || !isFinal(j.value.state)) next.add(id);
      }
      pending = next;
      log(`${ids.length - pending.size}/${ids.length} final, kills ${report.kills}, Azurite restarts ${report.azuriteRestarts}`);
    }
    running = false;
    await Promise.all(background);

    // Calm: faults off, every host up, then the reconciler (any leftover group is an orphan now).
    emulator.setFaults({});
    proxy.faults.rate = 0;
    proxy.faults.outageUntil = 0;
    report.faults.storageFaults = proxy.injected.ServerBusy + proxy.injected.OperationTimedOut;
    for (let i = 0; i < o.hosts; i++) if (!hosts[i]) await spawnHost(i);
    for (let k = 0; k < 3; k++) {
      const r = await reconcile(deps, { orphanGraceSeconds: 0 });
      report.reconcilerActions += r.actions;
      await sleep(1_000);
    }
    for (let k = 0; k < 20 && emulator.stats().alive.some((g) => Object.values(rgs).includes(g.resourceGroup)); k++) await sleep(500);

    const stats = emulator.stats();
    report.faults.injectedErrors = stats.counts.injectedErrors;
    report.faults.lostResponses = stats.counts.lostResponses;
    report.faults.throttled = stats.counts.throttled.total;
    const records = new Map<string, JobRecord | undefined>();
    for (const id of ids) records.set(id, (await deps.jobs.get(id))?.value);
    for (const j of records.values()) if (j) report.finalStates[j.state] = (report.finalStates[j.state] ?? 0) + 1;
    for (const h of hosts) if (h) outputs.push(h.output());

    report.violations = await checkInvariants({
      deps, jobs, ids, records, stats, samples, caps: { [rgs.east]: caps.east, [rgs.west]: caps.west },
      pools: ["east", "west"], rgs: Object.values(rgs),
      secretScan: await scanStorage(azurite.connectionString, secret),
      hostOutput: outputs.join("\n"), secret,
    });
    if (pending.size > 0) report.violations.unshift(`${pending.size} jobs did not reach a final state within ${o.maxDurationMs / 1000} s`);
  } finally {
    running = false;
    await Promise.allSettled(background);
    await Promise.all(hosts.map((h) => h?.stop()));
    await emulator.close();
    await proxy.close();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  return report;
}
