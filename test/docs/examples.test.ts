/**
 * The docs, run as written. Every runnable example of README.md (the quick start, the queue
 * snippet), docs/cli.md, docs/api.md and the two packages' READMEs is read from the markdown
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
 * Commands are not rewritten, except for placeholders (`substitute`, test/support/docRunner.ts): ids and
 * addresses from a documented answer are the real answer's, and the documented ids of
 * jobs the docs assume exist stand for real jobs of that kind, made by the test (FIXTURES).
 * `npm install` is not run (this checkout is installed); `npm start` is the stack itself.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/launcher/net.js";
import { ROOT } from "../support/hostProcess.js";
import { readExamples, type Example } from "../support/docExamples.js";
import { LocalApi, runExample, transcript, withoutComment, type Context, type ExampleRun, type Fixture, type Json } from "../support/docRunner.js";
import { Background, ShellSession } from "../support/shellSession.js";

const DOCS = ["README.md", "docs/cli.md", "docs/api.md", "docs/deploy.md", "packages/aci-emulator/README.md", "packages/functions-local-host/README.md"];
const { examples, files: docFiles } = readExamples(ROOT, DOCS);

/** Files the examples name that the docs do not show. */
const FILES: Record<string, string> = {
  // docs/cli.md: `burst submit batch.yaml more.json` lists a job "report" from more.json[0].
  "more.json": `${JSON.stringify([{ image: "alpine", name: "report", command: ["sh", "-c", "echo report"], timeoutSeconds: 300 }])}\n`,
  // docs/cli.md: `burst submit bad.yaml` fails on bad.yaml[1]'s cpu.
  "bad.yaml": "image: alpine\ncommand: [echo, fine]\n---\nimage: alpine\ncpu: 64\n",
};

/** Jobs and messages the docs assume exist, by the documented id that stands for them. */
const FIXTURES: Record<string, Fixture> = {
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
  let stackPorts: number[] = [];
  const sessions: ShellSession[] = [];
  const serverLists: Background[][] = [];

  beforeAll(async () => {
    mkdirSync(path.join(ROOT, ".burst"), { recursive: true });
    work = mkdtempSync(path.join(ROOT, ".burst", "docs-"));
    for (const f of docFiles) writeFileSync(path.join(work, f.name), f.text);
    for (const [name, text] of Object.entries(FILES)) writeFileSync(path.join(work, name), text);
    mkdirSync(path.join(work, "bin"));
    writeFileSync(path.join(work, "bin", "burst"), `#!/bin/sh\nexec node '${path.join(ROOT, "dist/src/cli/main.js")}' "$@"\n`, { mode: 0o755 });
    const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? work, LANG: "C.UTF-8" };
    const quickStart = examples.find((ex) => ex.doc === "README.md" && ex.heading === "Quick start" && ex.steps.some((s) => withoutComment(s.command) === "npm start"));
    if (!quickStart) throw new Error("README.md's quick start has no `npm start`");
    const npmStart = quickStart.steps.find((s) => withoutComment(s.command) === "npm start")!.command;
    const starting = Date.now();
    // A free port can be taken by another test (or an outgoing connection's ephemeral port) during `npm start`'s build,
    // before the stack binds it; `npm start` then says which port is in use and exits. Try again on new ports.
    for (let attempt = 1; ; attempt++) {
      const ports = {
        BURST_API_PORT: await freePort(), BURST_EMULATOR_PORT: await freePort(),
        BURST_AZURITE_BLOB_PORT: await freePort(), BURST_AZURITE_QUEUE_PORT: await freePort(), BURST_AZURITE_TABLE_PORT: await freePort(),
      };
      apiPort = ports.BURST_API_PORT;
      stackPorts = Object.values(ports);
      stack = new Background(npmStart, work, { ...base, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), BURST_DATA_DIR: path.join(work, ".burst") });
      try {
        await stack.waitFor((o) => o.includes("Burst is running."), 120_000);
        break;
      } catch (err) {
        if (attempt >= 3 || !/is already in use/.test(stack.output())) throw err;
      }
    }
    mkdirSync(path.join(work, "curl"));
    writeFileSync(path.join(work, "curl", ".curlrc"), `connect-to = "localhost:7071:127.0.0.1:${apiPort}"\n`);
    if (process.env.DOCS_EXAMPLES_VERBOSE) console.log(`npm start took ${((Date.now() - starting) / 1000).toFixed(1)} s`);
    const env = Object.fromEntries(readFileSync(path.join(work, ".burst", "env"), "utf8").trim().split("\n").map((l) => {
      const m = /^export (\w+)='(.*)'$/.exec(l)!;
      return [m[1]!, m[2]!.replace(/'\\''/g, "'")];
    }));
    const api = new LocalApi(`http://127.0.0.1:${apiPort}`, env.AzureWebJobsStorage!, FIXTURES);
    // The fixtures the docs name take a while (a retry, a start): begin them now.
    for (const documented of Object.keys(FIXTURES)) void api.fixture(documented).catch(() => {});

    const shellEnv = { ...base, PATH: `${path.join(work, "bin")}:${base.PATH}`, CURL_HOME: path.join(work, "curl"), API_TOKEN: "s3cret-token" };
    for (const doc of DOCS) {
      const session = new ShellSession(work, shellEnv);
      sessions.push(session);
      const ctx: Context = { work, api, session, shellEnv, background: [], variables: VARIABLES, exported: new Set(), urls: new Map(), t0: Date.now(), stackRunning: () => stack?.child.exitCode === null };
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
    await Promise.allSettled(sessions.map((s) => s.close()));
    await Promise.allSettled(serverLists.flat().map((s) => s.ctrlC()));
    if (stack) {
      await stack.ctrlC();
      // npm start stops its host, the emulator and Azurite in order: wait for all of them before removing their data.
      for (const port of stackPorts) await portClosed(port, 20_000);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("finds the examples the issue names: the quick start, the queue snippet, and examples in every doc", () => {
    expect(examples.some((ex) => ex.doc === "README.md" && ex.heading === "Quick start" && ex.steps.some((s) => s.command.startsWith("npx burst run")))).toBe(true);
    expect(examples.some((ex) => ex.doc === "README.md" && ex.script?.source.includes("@azure/storage-queue"))).toBe(true);
    // docs/deploy.md's commands all need an Azure subscription: each says so in its not-run line.
    for (const doc of DOCS.filter((d) => d !== "docs/deploy.md")) expect(runnable.filter((ex) => ex.doc === doc).length, doc).toBeGreaterThan(0);
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
