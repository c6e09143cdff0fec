import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../src");

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
    // mutateJob, and the store's create and replace, are jobState.ts's to call: everything else uses changeJob/createJob.
    const writers = all.filter((f) => /\bmutateJob\(|\.jobs\.(create|replace)\(/.test(readFileSync(f, "utf8"))).map(rel);
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
