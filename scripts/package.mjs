#!/usr/bin/env node
/**
 * `npm run package`: the zip a Functions host runs (`az functionapp deploy --src-path`):
 *
 *   host.json, package.json (the runtime fields only), dist/functions and the product's
 *   dist/src, and the production dependencies (node_modules, as `npm ls --omit=dev` finds
 *   them installed here, so the lockfile's versions ship).
 *
 * Left out: tests, the benchmark, the chaos suite, the dev tools (the ACI emulator and the
 * local Functions host in packages/, `npm start`'s launcher and the fake GitHub in tools/),
 * and the commands for people (the CLI, admin commands).
 * Nothing in the app imports them; test/deploy/package.test.ts runs a job on the unpacked
 * zip alone, so a missing file fails there.
 *
 *   node scripts/package.mjs [--out FILE]   (default build/burst.zip; run `npm run build` first)
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import yazl from "yazl";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { out: { type: "string" } } });
const out = path.resolve(values.out ?? path.join(root, "build", "burst.zip"));

/** dist/src folders that are commands for people, not the app (the dev tools are in dist/tools and packages/, never shipped). */
const LOCAL_ONLY = /^dist\/src\/(cli|admin)\//;

function filesUnder(rel) {
  const abs = path.join(root, rel);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return [rel];
  return readdirSync(abs).flatMap((f) => filesUnder(path.posix.join(rel, f)));
}

if (!existsSync(path.join(root, "dist", "functions"))) {
  console.error("package: dist/functions is missing; run `npm run build` first");
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
// The host reads "main" (the function files) and "type"; nothing else is needed at run time.
const runtimePkg = {
  name: pkg.name,
  version: pkg.version,
  private: true,
  type: pkg.type,
  main: pkg.main,
  engines: pkg.engines,
  dependencies: pkg.dependencies,
};

const app = [...filesUnder("dist/functions"), ...filesUnder("dist/src")].filter((f) => !LOCAL_ONLY.test(f) && !f.endsWith(".map"));
// Every installed production dependency, nested ones included, where npm put it.
const listed = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
  cwd: root,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
const modules = [...new Set(listed.split("\n").filter((p) => p && p !== root))].map((p) =>
  path.relative(root, p).split(path.sep).join("/"),
);
if (modules.some((m) => !m.startsWith("node_modules/")))
  throw new Error(`package: a dependency outside node_modules: ${modules.find((m) => !m.startsWith("node_modules/"))}`);
// A package's own folder, without the nested node_modules npm lists separately (and without dev-only ones nested there).
const dependencyFiles = modules.flatMap((m) => filesUnder(m).filter((f) => !f.slice(m.length + 1).includes("node_modules/")));

const zip = new yazl.ZipFile();
zip.addFile(path.join(root, "host.json"), "host.json");
zip.addBuffer(Buffer.from(`${JSON.stringify(runtimePkg, null, 2)}\n`), "package.json");
for (const f of [...app, ...dependencyFiles]) zip.addFile(path.join(root, f), f);
zip.end();
mkdirSync(path.dirname(out), { recursive: true });
await new Promise((resolve, reject) => {
  zip.outputStream.pipe(createWriteStream(out)).on("close", resolve).on("error", reject);
});
const size = statSync(out).size;
console.log(
  `package: ${out} (${(size / 1024 / 1024).toFixed(1)} MB): ${app.length} app files, ${modules.length} production packages (${dependencyFiles.length} files)`,
);
