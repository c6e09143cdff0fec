// `tsc` writes its outputs without the executable bit, and npm sets it on a package's bins
// only when it installs the package: in a checkout, where `npm install` runs before the
// first build, `npx burst` (the README's quick start) would find dist/src/cli/main.js and
// fail with "Permission denied". Mark every bin package.json names executable.
import { chmodSync, existsSync, readFileSync } from "node:fs";

const { bin } = JSON.parse(readFileSync("package.json", "utf8"));
for (const file of typeof bin === "string" ? [bin] : Object.values(bin ?? {})) {
  if (existsSync(file)) chmodSync(file, 0o755);
}
