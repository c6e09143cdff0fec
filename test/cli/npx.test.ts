/**
 * The README's quick start runs the CLI as `npx burst …` in the checkout, where npm finds
 * the bin package.json names (dist/src/cli/main.js). npm marks a bin executable only when
 * it installs a package, and `npm install` runs before the first build, so the build must.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/hostProcess.js";

describe("the checkout's own CLI", () => {
  it("runs as npx burst in the checkout, as the README's quick start does", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "burst", "--help"], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/^Usage: burst \[options\] \[command\]/);
  });
});
