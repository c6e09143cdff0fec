/**
 * The docs, run as written. Every runnable example of README.md (the quick start, the queue
 * snippet), docs/cli.md, docs/api.md and docs/emulator.md is read from the markdown
 * (test/support/docExamples.ts says which blocks run and how a doc skips one) and run
 * against a local Burst started by the quick start's own `npm start`, in one shell per
 * document, one command after another, as a user would type them. What each command
 * prints is compared with the output its doc shows (test/support/outputShape.ts).
 *
 * What the test gives the examples, as the docs tell a user to:
 * - `npm start` runs in a work directory under `.burst/`, with free ports (BURST_API_PORT,
 *   BURST_EMULATOR_PORT, BURST_AZURITE_*_PORT) and its data there (BURST_DATA_DIR), so it
 *   never meets a developer's own. Each shell starts with `source .burst/env`, which sets
 *   BURST_URL, BURST_API_KEY and AzureWebJobsStorage.
 * - `burst` is on PATH, as `npm link` puts it; `npx burst` is the checkout's own.
 * - curl commands name `localhost:7071`, `npm start`'s default port: a curlrc maps it to the
 *   test's port, so the command text runs unchanged.
 * - `API_TOKEN` (read by `--secure-env API_TOKEN`) is in the environment.
 * - Files the examples name but the docs do not show (FILES below) are in the work directory.
 *
 * Commands are not rewritten, except for the placeholders below (`substitute`): ids and
 * addresses from a documented answer are the real answer's, and the documented ids of
 * jobs the docs assume exist stand for real jobs of that kind, made by the test (FIXTURES).
 * `npm install` is not run (this checkout is installed); `npm start` is the stack itself.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import ts from "typescript";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/stack/net.js";
import { ROOT } from "../support/hostProcess.js";
import { readExamples, type Example, type Step } from "../support/docExamples.js";
import { compareOutput, shape } from "../support/outputShape.js";
import { Background, ShellSession, type StepResult } from "../support/shellSession.js";

const DOCS = ["README.md", "docs/cli.md", "docs/api.md", "docs/emulator.md"];
const { examples, files: docFiles } = readExamples(ROOT, DOCS);

/** Files the examples name that the docs do not show. */
const FILES: Record<string, string> = {
  // docs/cli.md: `burst submit batch.yaml more.json` lists a job "report" from more.json[0].
  "more.json": `${JSON.stringify([{ image: "alpine", name: "report", command: ["sh", "-c", "echo report"], timeoutSeconds: 300 }])}\n`,
  // docs/cli.md: `burst submit bad.yaml` fails on bad.yaml[1]'s cpu.
  "bad.yaml": "image: alpine\ncommand: [echo, fine]\n---\nimage: alpine\ncpu: 64\n",
};

const LOCAL_KEY = "burst-local-key";
type Json = any;

/** Jobs and messages the docs assume exist, by the documented id that stands for them. */
const FIXTURES: Record<string, { what: string; make: (api: LocalApi) => Promise<string> }> = {
  // docs/cli.md `burst status`, docs/api.md logs: the job of api.md's GET /api/jobs/{id} sample.
  jmwymfkuv3iwcde8xk9: {
    what: "a job that printed \"trying\" and failed with exit 3, twice (retries 1)",
    make: async (api) => {
      const { id } = await api.call("POST", "/api/jobs", { image: "alpine", command: ["sh", "-c", "echo trying; exit 3"], retries: 1, timeoutSeconds: 60, secureEnv: { API_TOKEN: "…" } });
      await api.waitFor(id, (j) => j.state === "Failed");
      return id;
    },
  },
  // docs/api.md DELETE /api/jobs/{id}: a running job.
  jmwymfviz2ietgocto2: {
    what: "a running job",
    make: async (api) => {
      const { id } = await api.call("POST", "/api/jobs", { image: "alpine", command: ["sh", "-c", "sleep 120"], timeoutSeconds: 300 });
      await api.waitFor(id, (j) => j.state === "Running");
      return id;
    },
  },
  // docs/cli.md `burst poison redrive jobs ID`: a message waiting in the jobs poison queue.
  "6e0f3c1a-9a55-4b1e-8d0c-2f1b3c4d5e6f": {
    what: "a message in burst-jobs-poison",
    make: async (api) => {
      const poison = new QueueClient(api.storage, "burst-jobs-poison");
      await poison.createIfNotExists();
      const spec = { image: "alpine", command: ["sh", "-c", "echo redriven"], timeoutSeconds: 60 };
      return (await poison.sendMessage(Buffer.from(JSON.stringify(spec)).toString("base64"))).messageId;
    },
  },
};
/** Shell variables the examples use, and the fixture each one holds. */
const VARIABLES: Record<string, string> = { ID: "jmwymfkuv3iwcde8xk9" };

class LocalApi {
  readonly #made = new Map<string, Promise<string>>();
  constructor(readonly url: string, readonly storage: string) {}

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
    if (!this.#made.has(documented)) this.#made.set(documented, FIXTURES[documented]!.make(this));
    return this.#made.get(documented)!;
  }
}

interface StepRun {
  step: Step;
  command: string;
  result?: StepResult;
  note?: string;
  problems: string[];
  /** When it started and how long it took, for the transcript. */
  startedMs?: number;
  ms?: number;
}
interface ExampleRun {
  steps: StepRun[];
  problems: string[];
}

/**
 * The command with its placeholders filled in, and nothing else changed:
 * - `<name>`: the `name` of the last JSON answer in the block (README: `<id>`);
 * - a loopback address 127.0.0.N: the `address.ip` of the last JSON answer in the block
 *   (api.md: "the ip from the answer");
 * - a documented id in FIXTURES: the real job or message made for it;
 * - a URL a server of the doc shows in its output (`<!-- keeps running -->`): the URL it printed.
 * Any other job id or uuid in a command is an error: it needs an entry in FIXTURES.
 */
async function substitute(command: string, answers: Json[], api: LocalApi, urls: Map<string, string>): Promise<string> {
  command = withServerUrls(command, urls);
  const unknown = /\b[jk][0-9a-z]{18}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/.exec(Object.keys(FIXTURES).reduce((c, d) => c.split(d).join(""), command));
  if (unknown) throw new Error(`${unknown[0]} is a documented id with no real one to stand for: add it to FIXTURES`);
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
  for (const documented of Object.keys(FIXTURES)) if (out.includes(documented)) out = out.split(documented).join(await api.fixture(documented));
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

const withoutComment = (command: string) => command.replace(/\s+#.*$/, "").trim();
const SETUP: Record<string, string> = {
  "npm install": "not run: this checkout is installed",
  "npm start": "the stack every example runs against, started by the test with this very command",
};

interface Context {
  work: string;
  api: LocalApi;
  session: ShellSession;
  shellEnv: Record<string, string>;
  background: Background[];
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
    for (const [name, documented] of Object.entries(VARIABLES)) {
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

async function runExample(ctx: Context, ex: Example): Promise<ExampleRun> {
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

function transcript(ex: Example, run: ExampleRun): string {
  return [`${ex.id} (${ex.heading})`, ...run.steps.map((s) => [
    `$ ${s.command}`,
    s.note ? `  (${s.note})` : "",
    s.result ? `${s.result.output.trimEnd()}\n  [exit ${s.result.status}${s.ms === undefined ? "" : `; at ${(s.startedMs! / 1000).toFixed(1)} s, took ${(s.ms / 1000).toFixed(1)} s`}]` : "",
    ...s.problems.map((p) => `  ✗ ${p}`),
  ].filter(Boolean).join("\n"))].join("\n");
}

/** Claims a doc makes in prose about what an example does, checked after it ran. */
const CLAIMS: { example: (ex: Example) => boolean; check: (api: LocalApi) => Promise<string[]> }[] = [
  {
    // README: "A spec that validates becomes a job" — the queue snippet's message becomes one, and it runs.
    example: (ex) => ex.doc === "README.md" && (ex.script?.source.includes("@azure/storage-queue") ?? false),
    check: async (api) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { jobs } = await api.call("GET", "/api/jobs?limit=1000");
        const records: Json[] = await Promise.all(jobs.map((j: Json) => api.call("GET", `/api/jobs/${j.id}`)));
        const mine = records.filter((r) => r.spec?.command?.join(" ") === "sh -c echo hi");
        if (mine.some((r) => r.state === "Succeeded")) return [];
        if (Date.now() > deadline) return [`no job from the queue snippet's message ended Succeeded; its jobs: ${JSON.stringify(mine.map((r) => [r.id, r.state]))}`];
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  },
];

async function portClosed(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1");
      c.once("connect", () => { c.destroy(); resolve(true); });
      c.once("error", () => resolve(false));
    });
    if (!open) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe("the docs' examples, run as written", () => {
  const runnable = examples.filter((ex) => !ex.skip);
  const results = new Map<string, Promise<ExampleRun>>();
  let stack: Background | undefined;
  let work = "";
  let apiPort = 0;
  const sessions: ShellSession[] = [];
  const serverLists: Background[][] = [];

  beforeAll(async () => {
    mkdirSync(path.join(ROOT, ".burst"), { recursive: true });
    work = mkdtempSync(path.join(ROOT, ".burst", "docs-"));
    for (const f of docFiles) writeFileSync(path.join(work, f.name), f.text);
    for (const [name, text] of Object.entries(FILES)) writeFileSync(path.join(work, name), text);
    mkdirSync(path.join(work, "bin"));
    writeFileSync(path.join(work, "bin", "burst"), `#!/bin/sh\nexec node '${path.join(ROOT, "dist/src/cli/main.js")}' "$@"\n`, { mode: 0o755 });
    const ports = {
      BURST_API_PORT: await freePort(), BURST_EMULATOR_PORT: await freePort(),
      BURST_AZURITE_BLOB_PORT: await freePort(), BURST_AZURITE_QUEUE_PORT: await freePort(), BURST_AZURITE_TABLE_PORT: await freePort(),
    };
    apiPort = ports.BURST_API_PORT;
    mkdirSync(path.join(work, "curl"));
    writeFileSync(path.join(work, "curl", ".curlrc"), `connect-to = "localhost:7071:127.0.0.1:${apiPort}"\n`);

    const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? work, LANG: "C.UTF-8" };
    const quickStart = examples.find((ex) => ex.doc === "README.md" && ex.heading === "Quick start" && ex.steps.some((s) => withoutComment(s.command) === "npm start"));
    if (!quickStart) throw new Error("README.md's quick start has no `npm start`");
    const npmStart = quickStart.steps.find((s) => withoutComment(s.command) === "npm start")!.command;
    stack = new Background(npmStart, work, { ...base, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), BURST_DATA_DIR: path.join(work, ".burst") });
    const starting = Date.now();
    await stack.waitFor((o) => o.includes("Burst is running."), 120_000);
    if (process.env.DOCS_EXAMPLES_VERBOSE) console.log(`npm start took ${((Date.now() - starting) / 1000).toFixed(1)} s`);
    const env = Object.fromEntries(readFileSync(path.join(work, ".burst", "env"), "utf8").trim().split("\n").map((l) => {
      const m = /^export (\w+)='(.*)'$/.exec(l)!;
      return [m[1]!, m[2]!.replace(/'\\''/g, "'")];
    }));
    const api = new LocalApi(`http://127.0.0.1:${apiPort}`, env.AzureWebJobsStorage!);
    // The fixtures the docs name take a while (a retry, a start): begin them now.
    for (const documented of Object.keys(FIXTURES)) void api.fixture(documented).catch(() => {});

    const shellEnv = { ...base, PATH: `${path.join(work, "bin")}:${base.PATH}`, CURL_HOME: path.join(work, "curl"), API_TOKEN: "s3cret-token" };
    for (const doc of DOCS) {
      const session = new ShellSession(work, shellEnv);
      sessions.push(session);
      const ctx: Context = { work, api, session, shellEnv, background: [], exported: new Set(), urls: new Map(), t0: Date.now(), stackRunning: () => stack?.child.exitCode === null };
      // One terminal per doc: its examples in order; the docs side by side.
      let chain: Promise<unknown> = session.run("source .burst/env").then((r) => {
        if (r.status !== 0) throw new Error(`source .burst/env failed: ${r.output}`);
      });
      const docExamples = runnable.filter((ex) => ex.doc === doc);
      for (const ex of docExamples) {
        const result = chain.then(async () => {
          const run = await runExample(ctx, ex);
          for (const claim of CLAIMS) if (claim.example(ex) && run.problems.length === 0) run.problems.push(...(await claim.check(api)));
          return run;
        });
        results.set(ex.id, result);
        chain = result.catch(() => {});
      }
      // Servers a doc started stop when its examples are done.
      serverLists.push(ctx.background);
      void chain.then(async () => {
        for (const s of ctx.background) await s.ctrlC();
      });
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...results.values()].map((r) => r.catch(() => {})));
    for (const s of sessions) await s.close();
    for (const s of serverLists.flat()) await s.ctrlC();
    if (stack) {
      await stack.ctrlC();
      await portClosed(apiPort, 20_000);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("finds the examples the issue names: the quick start, the queue snippet, and examples in every doc", () => {
    expect(examples.some((ex) => ex.doc === "README.md" && ex.heading === "Quick start" && ex.steps.some((s) => s.command.startsWith("npx burst run")))).toBe(true);
    expect(examples.some((ex) => ex.doc === "README.md" && ex.script?.source.includes("@azure/storage-queue"))).toBe(true);
    for (const doc of DOCS) expect(runnable.filter((ex) => ex.doc === doc).length, doc).toBeGreaterThan(0);
  });

  for (const ex of examples) {
    const commands = ex.script ? (ex.script.file ?? `a ${ex.lang} program`) : ex.steps.map((s) => withoutComment(s.command.split("\n")[0]!)).join("; ");
    const name = `${ex.id} (${ex.heading}): ${commands.length > 100 ? `${commands.slice(0, 99)}…` : commands}`;
    if (ex.skip) {
      it.skip(`${name} — not run: ${ex.skip}`, () => {});
      continue;
    }
    it.concurrent(name, async () => {
      const run = await results.get(ex.id)!;
      // DOCS_EXAMPLES_VERBOSE=1 prints what each example printed, passing or not.
      if (process.env.DOCS_EXAMPLES_VERBOSE) console.log(transcript(ex, run));
      expect(run.problems, transcript(ex, run)).toEqual([]);
    }, 180_000);
  }
});
