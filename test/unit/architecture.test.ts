import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SRC = path.join(ROOT, "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The modules a file imports at run time: `import type` and `export type` vanish when compiled. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)].map((m) => m[1]!),
  ];
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, ".ts")));
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open") found.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("the shape of the code", () => {
  const all = files(SRC);
  const graph = new Map(all.map((f) => [f, runtimeImports(f).filter((g) => all.includes(g))]));
  const rel = (f: string) => path.relative(SRC, f);

  it("has no import cycles at run time in src/", () => {
    expect(cycles(graph).map((c) => c.map(rel).join(" → "))).toEqual([]);
  });

  it("finds a cycle when there is one, so the check above can fail", () => {
    const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
    expect(cycles(g)).toEqual([["a", "b", "c", "a"]]);
  });

  it("changes stored jobs only through the state machine module", () => {
    // mutateJob, and the store's create, replace and remove, are jobState.ts's to call: everything else uses changeJob/createJob/deleteFinishedJob.
    const writers = all.filter((f) => /\bmutateJob\(|\.jobs\.(create|replace|remove)\(/.test(readFileSync(f, "utf8"))).map(rel);
    expect(writers.sort()).toEqual(["jobState.ts", "store/jobStore.ts"]);
  });

  it("keeps the scheduler's steps leaves: only flow.ts runs one step after another", () => {
    const steps = ["pump.ts", "launch.ts", "monitor.ts", "finish.ts"].map((f) => path.join(SRC, "scheduler", f));
    for (const step of steps) {
      const calls = graph.get(step)!.filter((g) => steps.includes(g) || g.endsWith("flow.ts"));
      // launch and monitor record an attempt's end through finish.ts's toFinishing; nothing else crosses.
      expect(calls.map(rel), rel(step)).toEqual(step.endsWith("launch.ts") || step.endsWith("monitor.ts") ? ["scheduler/finish.ts"] : []);
    }
  });
});

/** Every module a file names, relative or bare, type-only or not. */
function specifiers(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)["']([^"']+)["']/g)].map((m) => m[1]!);
}

describe("the workspaces", () => {
  // What `npm run package` ships must not need the dev tools: the emulator, the local host,
  // the launcher, the fake GitHub, or their devDependencies.
  const DEV_ONLY = /^(@burst\/|azurite|@octokit\/webhooks-examples|vitest|fast-check)/;

  it("keeps the product (functions/, src/) free of the packages, tools/ and dev-only modules", () => {
    const product = [...files(path.join(ROOT, "functions")), ...files(SRC)];
    const bad = product.flatMap((f) =>
      specifiers(f)
        .filter((s) => DEV_ONLY.test(s) || (s.startsWith(".") && /^(tools|packages|test|bench|chaos)\//.test(path.relative(ROOT, path.resolve(path.dirname(f), s)))))
        .map((s) => `${path.relative(ROOT, f)} → ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it("keeps each package free of anything outside its folder", () => {
    for (const pkg of ["aci-emulator", "functions-local-host"]) {
      const dir = path.join(ROOT, "packages", pkg);
      const own = [...files(path.join(dir, "src")), ...files(path.join(dir, "test"))];
      const outside = own.flatMap((f) =>
        specifiers(f)
          .filter((s) => (s.startsWith(".") && path.relative(dir, path.resolve(path.dirname(f), s)).startsWith("..")) || s.startsWith("@burst/"))
          .map((s) => `${path.relative(ROOT, f)} → ${s}`),
      );
      expect(outside, pkg).toEqual([]);
    }
  });

  it("finds a product import of a dev tool, so the check above can fail", () => {
    expect(DEV_ONLY.test("@burst/aci-emulator")).toBe(true);
    expect(specifiers(path.join(ROOT, "tools/launcher/start.ts"))).toContain("@burst/functions-local-host");
  });
});
