#!/usr/bin/env node
/**
 * Prettier for the code files added since Prettier came in; the files from before keep
 * their hand formatting. Prettier would rewrite most of them at any line width, and a
 * rewrite of every file would bury real changes and collide with every change in flight.
 *
 *   node scripts/format.mjs           checks (`npm run lint` runs this)
 *   node scripts/format.mjs --write   formats those files (`npm run format`)
 *
 * "Added" is what git says: added since BASELINE (a rename or move is not an addition, so
 * an old file keeps its formatting wherever it goes), plus new files not yet committed.
 * To take an old file in, format it in a commit of its own and list it in ALSO.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The last commit before Prettier: files it already had are not checked. */
const BASELINE = "572c9f95a050952526f89809338a1db57a90afd6";
/** Older files formatted since, and checked from then on. */
const ALSO = [];
const CODE = /\.(?:[cm]?ts|[cm]?js)$/;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);

const write = process.argv.includes("--write");
try {
  git("cat-file", "-e", `${BASELINE}^{commit}`);
} catch {
  // A shallow clone lacks the baseline; ESLint still runs, and a full clone checks formatting.
  console.warn(`format: skipped, this clone does not have commit ${BASELINE} (fetch the full history to check formatting)`);
  process.exit(0);
}
const added = git("diff", "--name-only", "--diff-filter=A", "-M", BASELINE, "--");
const untracked = git("ls-files", "--others", "--exclude-standard");
const files = [...new Set([...added, ...untracked, ...ALSO])].filter((f) => CODE.test(f) && existsSync(path.join(root, f))).sort();
if (files.length === 0) process.exit(0);

const prettier = path.join(root, "node_modules", "prettier", "bin", "prettier.cjs");
const r = spawnSync(process.execPath, [prettier, write ? "--write" : "--check", "--log-level", write ? "log" : "warn", ...files], {
  cwd: root,
  stdio: "inherit",
});
if (r.status !== 0 && !write)
  console.error("format: run `npm run format` to format the files above (only files added since Prettier came in are checked)");
process.exit(r.status ?? 1);
