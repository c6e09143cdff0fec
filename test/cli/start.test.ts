/**
 * `npm start` as a new user meets it: it refuses bad settings and taken ports before
 * printing anything that says it runs, and when it runs, it is really Burst that answers.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/launcher/net.js";
import { ROOT } from "../support/hostProcess.js";
import { waitUntil } from "../support/wait.js";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function ports(): Promise<Record<string, string>> {
  return {
    BURST_API_PORT: String(await freePort()), BURST_EMULATOR_PORT: String(await freePort()),
    BURST_AZURITE_BLOB_PORT: String(await freePort()), BURST_AZURITE_QUEUE_PORT: String(await freePort()), BURST_AZURITE_TABLE_PORT: String(await freePort()),
  };
}

function start(env: Record<string, string>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "burst-start-"));
  dirs.push(dir);
  const child = spawn(process.execPath, [path.join(ROOT, "dist/tools/launcher/start.js")], {
    env: { ...process.env, BURST_DATA_DIR: path.join(dir, ".burst"), BURST_EMULATOR_RUNTIME: "sim", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, dir, exited, out: () => stdout, err: () => stderr };
}

describe("npm start", () => {
  it("refuses an invalid BURST_POOLS before starting anything, naming the field and what was meant", async () => {
    const s = start({ ...(await ports()), BURST_POOLS: '{"pools":{"default":{"maxConcurency":5}}}' });
    expect(await s.exited).toBe(1);
    expect(s.err()).toBe("burst: BURST_POOLS: pools.default.maxConcurency: is not a known field (did you mean maxConcurrency?)\n");
    expect(s.out()).not.toContain("running");
    expect(s.out()).not.toContain("starting");
  });

  it("refuses a reconciler schedule the Functions host would refuse, naming the setting, the rule and the value", async () => {
    const s = start({ ...(await ports()), BURST_RECONCILE_SCHEDULE: "*/5 * * * *" });
    expect(await s.exited).toBe(1);
    expect(s.err()).toBe('burst: BURST_RECONCILE_SCHEDULE must be a 6-field NCRONTAB ("{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "*/30 * * * * *") or a TimeSpan ("hh:mm:ss"): it has 5 fields, got "*/5 * * * *"\n');
    expect(s.out()).not.toContain("starting");
  });

  it("has the Functions host refuse a bad reconciler schedule by its setting's name, not as a timer it cannot index", async () => {
    const { startHostProcess } = await import("../support/hostProcess.js");
    await expect(startHostProcess({ appDir: ROOT, env: { AzureWebJobsStorage: "UseDevelopmentStorage=true", BURST_RECONCILE_SCHEDULE: "0 0 25 * * *" } }))
      .rejects.toThrow(/BURST_RECONCILE_SCHEDULE must be a 6-field NCRONTAB .*, got "0 0 25 \* \* \*"/);
  });

  it("has the Functions host refuse to load the app with a bad setting, as Azure's would fail to index it", async () => {
    const { startHostProcess } = await import("../support/hostProcess.js");
    await expect(startHostProcess({ appDir: ROOT, env: { AzureWebJobsStorage: "UseDevelopmentStorage=true", BURST_POOLS: '{"pools":{"default":{"maxConcurrency":5,"budget":{"daily":3}}}}' } }))
      .rejects.toThrow("BURST_POOLS: pools.default.budget.daily: is not a known field (did you mean dailyUsd?)");
  });

  it("refuses a port something else holds, naming the setting that moves it, before any banner", async () => {
    const p = await ports();
    const squatter = net.createServer().listen(Number(p.BURST_API_PORT), "127.0.0.1");
    await new Promise((r) => squatter.once("listening", r));
    try {
      const s = start(p);
      expect(await s.exited).toBe(1);
      expect(s.err()).toBe(`burst: port ${p.BURST_API_PORT}, for the HTTP API, is already in use (another npm start?): stop what uses it, or set BURST_API_PORT=<another port>\n`);
      expect(s.out()).toBe("");
    } finally {
      squatter.close();
    }
  });

  it("says it runs only once its own host answers, writes .burst/env for a shell, lets npm run reconcile -- --local act on it, and stops on Ctrl-C", async () => {
    const p = await ports();
    const s = start(p);
    try {
      await waitUntil(() => s.out(), { what: "npm start to say Burst is running", until: (out) => out.includes("Burst is running."), timeoutMs: 60_000 });
      expect(s.out()).toContain("Settings        pools: default (10 at a time); GitHub runners not configured");
      const health = (await (await fetch(`http://127.0.0.1:${p.BURST_API_PORT}/api/health`)).json()) as { service: string; instance: string };
      expect(health.service).toBe("burst");
      expect(health.instance).toMatch(/^[0-9a-f]{16}$/);
      const env = readFileSync(path.join(s.dir, ".burst", "env"), "utf8");
      expect(env).toContain(`export BURST_URL='http://localhost:${p.BURST_API_PORT}'`);
      expect(env).toMatch(new RegExp(`export AzureWebJobsStorage='DefaultEndpointsProtocol=http;.*QueueEndpoint=http://127\\.0\\.0\\.1:${p.BURST_AZURITE_QUEUE_PORT}/devstoreaccount1;`));
      // The host's settings, for --local admin commands: owner-only.
      expect(statSync(path.join(s.dir, ".burst", "host-settings.json")).mode & 0o777).toBe(0o600);
      const r = await reconcile(["--local", "-o", "json"], s.dir);
      expect(r.stderr).toContain(`ARM at http://127.0.0.1:${p.BURST_EMULATOR_PORT}`);
      expect(r).toMatchObject({ code: 0 });
      expect(JSON.parse(r.stdout)).toMatchObject({ errors: 0 });
    } finally {
      s.child.kill("SIGINT");
    }
    expect(await s.exited).toBe(0);
    // Nothing it started is left listening.
    for (const port of Object.values(p)) {
      const open = await new Promise<boolean>((resolve) => {
        const c = net.connect(Number(port), "127.0.0.1");
        c.once("connect", () => { c.destroy(); resolve(true); });
        c.once("error", () => resolve(false));
      });
      expect(open, `port ${port}`).toBe(false);
    }
    expect(existsSync(path.join(s.dir, ".burst", "host-settings.json"))).toBe(false);
    const after = await reconcile(["--local"], s.dir);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("--local acts on the stack npm start runs, and it is not running");
  }, 120_000);
});

function reconcile(args: string[], dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BURST_DATA_DIR: path.join(dir, ".burst") };
  for (const k of Object.keys(env)) if (k.startsWith("AzureWebJobsStorage") || k === "BURST_ARM_ENDPOINT") delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, "dist/src/admin/reconcileCommand.js"), ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("npm run reconcile", () => {
  it("with no settings refuses to guess a local stack, naming the setting and --local", async () => {
    const r = await reconcile([], mkdtempSync(path.join(os.tmpdir(), "burst-reconcile-")));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("reconcile: AzureWebJobsStorage is not set, so there is no deployment to act on: set it (and BURST_ARM_ENDPOINT for anything but Azure), or pass --local for the stack npm start runs\n");
  });

  it("refuses a retention batch that is not a whole number from 0 to 1000, quoting it", async () => {
    const r = await reconcile(["--retention-batch", "5000"], mkdtempSync(path.join(os.tmpdir(), "burst-reconcile-")));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('reconcile: --retention-batch must be a whole number of jobs from 0 to 1000, got "5000"\n');
  });
});
