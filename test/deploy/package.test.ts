/**
 * `npm run package` builds a zip the Functions host runs on its own: unpacked into an
 * empty folder (outside the checkout, so Node finds no node_modules but the zip's), the
 * local host loads the app from it and a job runs against the ACI emulator. Anything the
 * app needs that the zip lacks fails the run.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import yauzl from "yauzl";
import { startEmulator, type RunningEmulator } from "@burst/aci-emulator";
import { ROOT, startHostProcess, uniqueName, type HostProcess } from "../support/hostProcess.js";
import { runOneJob } from "./oneJob.js";

/** Unzips every entry under `dir`, refusing any that would land outside it. */
function unzip(file: string, dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on("error", reject);
      zip.on("end", () => resolve(names));
      zip.on("entry", (entry: yauzl.Entry) => {
        const target = path.resolve(dir, entry.fileName);
        if (!target.startsWith(dir + path.sep)) return reject(new Error(`zip entry ${entry.fileName} would land outside ${dir}`));
        names.push(entry.fileName);
        if (entry.fileName.endsWith("/")) return zip.readEntry();
        mkdirSync(path.dirname(target), { recursive: true });
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          pipeline(stream, createWriteStream(target)).then(() => zip.readEntry(), reject);
        });
      });
      zip.readEntry();
    });
  });
}

describe("the deployment package", () => {
  const work = mkdtempSync(path.join(os.tmpdir(), "burst-package-"));
  const app = path.join(work, "app");
  let names: string[];
  let emulator: RunningEmulator;
  let host: HostProcess;

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, "scripts/package.mjs"), "--out", path.join(work, "burst.zip")], {
      cwd: ROOT,
      stdio: "pipe",
    });
    mkdirSync(app);
    names = await unzip(path.join(work, "burst.zip"), app);
    // Zipping ~22,000 files (OpenTelemetry's packages are many small ones) takes minutes on a busy machine.
  }, 300_000);

  afterAll(async () => {
    await host?.stop();
    await emulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("holds host.json, package.json, the app and production dependencies, and nothing local or for development", () => {
    expect(names).toContain("host.json");
    expect(JSON.parse(readFileSync(path.join(app, "package.json"), "utf8"))).toMatchObject({ main: "dist/functions/*.js", type: "module" });
    expect(names.filter((n) => n.startsWith("dist/functions/")).length).toBeGreaterThan(10);
    const roots = new Set(names.map((n) => n.split("/")[0]));
    expect([...roots].sort()).toEqual(["dist", "host.json", "node_modules", "package.json"]);
    const local = names.filter((n) =>
      /^dist\/(test|bench|chaos)\/|^dist\/src\/(emulator|host|stack|cli|admin)\/|fakeGitHub|^dist\/.*\.map$/.test(n),
    );
    expect(local).toEqual([]);
    const modules = readdirSync(path.join(app, "node_modules"));
    for (const dev of [
      "vitest",
      "typescript",
      "azurite",
      "eslint",
      "prettier",
      "fast-check",
      "yazl",
      "esbuild",
      "preact",
      "chart.js",
      "playwright-core",
    ])
      expect(modules).not.toContain(dev);
    expect(modules).toContain("@azure");
  });

  it("runs a job on the local host from the unpacked folder alone", async () => {
    const token = randomBytes(16).toString("hex");
    emulator = await startEmulator({ runtime: "sim", timings: { pullDelayMs: 200, startDelayMs: 50 }, token });
    host = await startHostProcess({
      appDir: app,
      env: {
        AzureWebJobsStorage: inject("storageConnectionString"),
        BURST_STORAGE_PREFIX: uniqueName("pkg").replace(/-/g, ""),
        BURST_ARM_ENDPOINT: emulator.url,
        BURST_EMULATOR_TOKEN: token,
        BURST_POOLS: JSON.stringify({ pools: { default: { maxConcurrency: 1, resourceGroup: `rg-pkg-${Date.now()}` } } }),
        BURST_SECRET_KEY: randomBytes(32).toString("base64"),
        BURST_HOST_ID: uniqueName("host"),
        BURST_BILLS: "off",
      },
    });
    const job = await runOneJob(host, "echo from the package");
    expect(job.state).toBe("Succeeded");
    expect(job.logs).toContain("from the package");
  });

  it("serves the dashboard's page and its bundled script from the unpacked folder alone", async () => {
    // The script is esbuild's bundle (Preact and Chart.js inside): the zip needs no UI package of its own.
    expect(names).toEqual(
      expect.arrayContaining([
        "dist/functions/httpUi.js",
        "dist/src/ui/serve.js",
        "dist/src/ui/assets/app.js",
        "dist/src/ui/assets/style.css",
      ]),
    );
    const page = await fetch(`${host!.url}/api/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`src="/api/ui/app.js"`);
    const script = await fetch(`${host!.url}/api/ui/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("x-functions-key");
  });
});
