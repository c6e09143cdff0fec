#!/usr/bin/env node
/**
 * The dashboard's browser bundle (`npm run build` runs this after tsc): ui/main.tsx with
 * Preact and Chart.js bundled in by esbuild, and ui/style.css, written to
 * dist/src/ui/assets/ where src/ui/serve.ts reads them and `npm run package` ships them
 * with the rest of dist/src. Nothing is fetched from elsewhere at run time.
 *
 *   node scripts/buildUi.mjs
 */
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist", "src", "ui", "assets");

await build({
  entryPoints: { app: path.join(root, "ui", "main.tsx"), style: path.join(root, "ui", "style.css") },
  outdir,
  bundle: true,
  minify: true,
  format: "esm",
  // Evergreen browsers: what the Chromium in the browser tests and current phones run.
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "eof",
  logLevel: "warning",
});
