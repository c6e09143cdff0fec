/**
 * Runs the examples docExamples.ts reads: each command in the doc's shell, with its
 * placeholders filled in (`substitute`), its exit status and output checked against the
 * doc's (`expectedStatus`, outputShape.ts), servers in a terminal of their own, and js
 * and ts programs as the doc runs them.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import type { Example, Step } from "./docExamples.js";
import { compareOutput, shape } from "./outputShape.js";
import { Background, type ShellSession, type StepResult } from "./shellSession.js";
import { ROOT } from "./hostProcess.js";

export const LOCAL_KEY = "burst-local-key";
/** Answers, read by the shape each doc documents. */
export type Json = any;

/** A job or message a doc assumes exists, made for real by the test. */
export interface Fixture {
  what: string;
  make: (api: LocalApi) => Promise<string>;
}

export class LocalApi {
  readonly #made = new Map<string, Promise<string>>();
  constructor(readonly url: string, readonly storage: string, readonly fixtures: Record<string, Fixture>) {}

  async call(method: string, route: string, body?: unknown): Promise<Json> {
    const res = await fetch(`${this.url}${route}`, {
      method, headers: { "x-functions-key": LOCAL_KEY, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async waitFor(id: string, done: (job: Json) => boolean, timeoutMs = 60_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.call("GET", `/api/jobs/${id}`);
      if (done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} did not get there; last: ${JSON.stringify(job).slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The real id a documented one stands for, made once. */
  fixture(documented: string): Promise<string> {
    if (!this.#made.has(documented)) {
      const fixture = this.fixtures[documented]!;
      this.#made.set(documented, fixture.make(this).catch((err: Error) => {
        throw new Error(`could not make ${fixture.what}, for ${documented}: ${err.message}`);
      }));
    }
    return this.#made.get(documented)!;
  }
}

export interface StepRun {
  step: Step;
  command: string;
  result?: StepResult;
  note?: string;
  problems: string[];
  /** When it started and how long it took, for the transcript. */
  startedMs?: number;
  ms?: number;
}
export interface ExampleRun {
  steps: StepRun[];
  problems: string[];
}

/**
 * The command with its placeholders filled in, and nothing else changed:
 * - `<name>`: the `name` of the last JSON answer in the block (README: `<id>`);
 * - a loopback address 127.0.0.N: the `address.ip` of the last JSON answer in the block
 *   (api.md: "the ip from the answer");
 * - a documented id with a fixture: the real job or message made for it;
 * - a URL a server of the doc shows in its output (`<!-- keeps running -->`): the URL it printed.
 * Any other job id or uuid in a command is an error: it needs a fixture.
 */
export async function substitute(command: string, answers: Json[], api: LocalApi, urls: Map<string, string>): Promise<string> {
  command = withServerUrls(command, urls);
  const unknown = /\b[jk][0-9a-z]{18}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/.exec(Object.keys(api.fixtures).reduce((c, d) => c.split(d).join(""), command));
  if (unknown) throw new Error(`${unknown[0]} is a documented id with no real one to stand for: add a fixture for it`);
  const last = answers.at(-1);
  let out = command.replace(/<(\w+)>/g, (whole, name: string) => {
    if (last?.[name] === undefined) throw new Error(`${whole} stands for the ${name} of an earlier answer in the block, and there is none`);
    return String(last[name]);
  });
  out = out.replace(/\b127\.0\.0\.(\d+)\b/g, (whole, n: string) => {
    if (n === "1") return whole;
    if (!last?.address?.ip) throw new Error(`${whole} stands for the address of an earlier answer in the block, and there is none`);
    return last.address.ip;
  });
  for (const documented of Object.keys(api.fixtures)) if (out.includes(documented)) out = out.split(documented).join(await api.fixture(documented));
  return out;
}

const URL_PATTERN = /https?:\/\/[^\s"'`]+/g;

function withServerUrls(text: string, urls: Map<string, string>): string {
  for (const [documented, real] of urls) text = text.split(documented).join(real);
  return text;
}

/** What a step's exit status must be: 0, except where the doc shows otherwise. */
function expectedStatus(step: Step, next: Step | undefined): number | undefined {
  if (next?.command.trim() === "echo $?") return undefined; // the next command shows it
  const shown = step.output.filter((l) => l.trim() !== "");
  if (shown.length === 1 && shown[0]!.startsWith("burst: ")) return 1; // cli.md: a failure is one `burst:` line and exit 1
  return 0;
}

export const withoutComment = (command: string) => command.replace(/\s+#.*$/, "").trim();
const SETUP: Record<string, string> = {
  "npm install": "not run: this checkout is installed",
  "npm start": "the stack every example runs against, started by the test with this very command",
};

export interface Context {
  work: string;
  api: LocalApi;
  session: ShellSession;
  shellEnv: Record<string, string>;
  background: Background[];
  /** Shell variables the examples use (`$ID`), and the fixture each holds. */
  variables: Record<string, string>;
  exported: Set<string>;
  /** Documented URLs of the doc's servers, and the ones they printed. */
  urls: Map<string, string>;
  stackRunning: () => boolean;
  /** When the stack was up. */
  t0: number;
}

async function runStep(ctx: Context, step: Step, next: Step | undefined, answers: Json[]): Promise<StepRun> {
  const setup = SETUP[withoutComment(step.command)];
  if (setup) return { step, command: step.command, note: setup, problems: ctx.stackRunning() ? [] : ["the stack is not running"] };
  const run: StepRun = { step, command: step.command, problems: [] };
  try {
    run.command = await substitute(step.command, answers, ctx.api, ctx.urls);
    for (const [name, documented] of Object.entries(ctx.variables)) {
      if (!new RegExp(`\\$\\{?${name}\\b`).test(run.command) || ctx.exported.has(name)) continue;
      // As a user would have set it before following the doc.
      await ctx.session.run(`export ${name}='${await ctx.api.fixture(documented)}'`);
      ctx.exported.add(name);
    }
  } catch (err) {
    run.problems.push((err as Error).message);
    return run;
  }
  const ctrlCWhen = step.ctrlC ? (out: string) => compareOutput(step.output, out).length === 0 : undefined;
  const started = Date.now();
  const result = (run.result = await ctx.session.run(run.command, { timeoutMs: 60_000, ctrlCWhen }));
  run.startedMs = started - ctx.t0;
  run.ms = Date.now() - started;
  if (result.timedOut) run.problems.push("it did not end within 60 s");
  if (step.ctrlC && !result.interrupted) run.problems.push("it ended before the output the doc shows before ^C");
  const status = expectedStatus(step, next);
  if (status !== undefined && result.status !== status) run.problems.push(`exit status ${result.status}, the doc implies ${status}`);
  run.problems.push(...compareOutput(step.output, result.output, result.stdout));
  if (step.ctrlC) run.problems.push(...compareOutput(step.ctrlC.after, result.output).map((p) => `after ^C: ${p}`));
  try {
    const answer = JSON.parse(result.stdout);
    if (answer && typeof answer === "object") answers.push(answer);
  } catch {
    // not JSON
  }
  return run;
}

export async function runExample(ctx: Context, ex: Example): Promise<ExampleRun> {
  const out: ExampleRun = { steps: [], problems: [] };
  if (ex.keepsRunning) {
    // A server for the doc's later examples: its own terminal, until the doc is done.
    const step = ex.steps[0]!;
    if (ex.steps.length !== 1) out.problems.push("a block that keeps running has one command");
    const server = new Background(step.command, ctx.work, ctx.shellEnv);
    ctx.background.push(server);
    try {
      await server.waitFor((o) => compareOutput(step.output, o).length === 0, 90_000);
      for (const line of step.output) {
        const printed = server.output().split("\n").find((l) => shape(l) === shape(line))?.match(URL_PATTERN) ?? [];
        (line.match(URL_PATTERN) ?? []).forEach((documented, i) => printed[i] && ctx.urls.set(documented, printed[i]));
      }
    } catch (err) {
      out.problems.push((err as Error).message, ...compareOutput(step.output, server.output()));
    }
    out.steps.push({ step, command: step.command, result: { status: 0, stdout: server.output(), stderr: "", output: server.output(), interrupted: false, timedOut: false }, problems: [] });
    return out;
  }
  if (ex.script) {
    // js: the file the doc names, run as it says. ts: compiled as the project compiles, and
    // run from dist/, where `./src/…` is what it is from the checkout's root in TypeScript.
    const s = ex.script;
    let file: string;
    let command: string;
    if (s.typescript) {
      file = path.join(ROOT, "dist", `docs-example-${randomBytes(4).toString("hex")}.mjs`);
      writeFileSync(file, ts.transpileModule(withServerUrls(s.source, ctx.urls), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
      command = `node '${file}'`;
    } else {
      file = path.join(ctx.work, s.file ?? `example-${ex.line}.mjs`);
      writeFileSync(file, withServerUrls(s.source, ctx.urls));
      command = s.runWith ?? `node '${file}'`;
    }
    const step: Step = { command, line: ex.line, output: [] };
    try {
      out.steps.push(await runStep(ctx, step, undefined, []));
    } finally {
      if (s.typescript) rmSync(file, { force: true });
    }
  } else {
    const answers: Json[] = [];
    for (let i = 0; i < ex.steps.length; i++) out.steps.push(await runStep(ctx, ex.steps[i]!, ex.steps[i + 1], answers));
  }
  out.problems.push(...out.steps.flatMap((s) => s.problems.map((p) => `line ${s.step.line}: ${p}`)));
  return out;
}

export function transcript(ex: Example, run: ExampleRun): string {
  return [`${ex.id} (${ex.heading})`, ...run.steps.map((s) => [
    `$ ${s.command}`,
    s.note ? `  (${s.note})` : "",
    s.result ? `${s.result.output.trimEnd()}\n  [exit ${s.result.status}${s.ms === undefined ? "" : `; at ${(s.startedMs! / 1000).toFixed(1)} s, took ${(s.ms / 1000).toFixed(1)} s`}]` : "",
    ...s.problems.map((p) => `  ✗ ${p}`),
  ].filter(Boolean).join("\n"))].join("\n");
}
