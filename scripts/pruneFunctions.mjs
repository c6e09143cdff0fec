// `tsc -b` never deletes what it emitted for a source that is gone, and the app loads every
// dist/functions/*.js (package.json "main"): a function removed from functions/ would keep
// running from an older build. Delete the outputs whose source no longer exists.
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const out = "dist/functions";
if (existsSync(out)) {
  for (const file of readdirSync(out)) {
    const source = path.join("functions", file.replace(/\.js(\.map)?$/, ".ts"));
    if (/\.js(\.map)?$/.test(file) && !existsSync(source)) {
      rmSync(path.join(out, file));
      console.log(`build: removed ${path.join(out, file)} (functions/ has no ${path.basename(source)} any more)`);
    }
  }
}
