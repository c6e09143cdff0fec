/**
 * Reads the runnable examples out of Burst's markdown, so that a test runs them as written
 * and the docs cannot drift from the code.
 *
 * Which blocks run. A new example runs by default; skipping one is a choice written in the doc.
 * - Fenced blocks tagged `sh`, `bash`, `shell`, `console`, `js`, `mjs` or `ts` run, and so do
 *   untagged blocks that open with a `$ ` prompt. Every other block is data: an output
 *   sample, a file, a reference fragment, a diagram, a synopsis.
 * - `<!-- not run: REASON -->`, as the last line before a fence, skips that block. The
 *   reason is required, and it is shown as the skipped test's name.
 * - `<!-- keeps running: REASON -->` marks a server: its command runs in the background
 *   while the document's later examples run, and Ctrl-C stops it after them.
 *
 * Where a block documents its output.
 * - `console` blocks: the lines after a `$ ` command, up to the next one. A `^C` line is
 *   where the user presses Ctrl-C; the lines after it are what follows.
 * - `sh` blocks: a `# → OUTPUT` comment, at the end of the command's line or on a line of
 *   its own after it. A `json` block right after the `sh` block is the answer of its
 *   last command.
 *
 * Files. A data block whose first line is a comment naming a file (`# batch.yaml`) is that
 * file. A `js` block opening with `// NAME — run with `COMMAND`` is the file NAME, run
 * with COMMAND.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export interface Step {
  /** The command as the doc writes it (continuation lines and heredocs included). */
  command: string;
  /** 1-based line in the doc. */
  line: number;
  /** Documented output (before any Ctrl-C). */
  output: string[];
  /** The doc shows a Ctrl-C (`^C`) once `output` has shown; `after` is what it prints then. */
  ctrlC?: { after: string[] };
}

export interface Example {
  /** `doc:line`, e.g. `docs/cli.md:98`. */
  id: string;
  doc: string;
  line: number;
  lang: string;
  /** The section it is in. */
  heading: string;
  steps: Step[];
  /** js and ts blocks: the program's text, the file it is, and how the doc runs it. */
  script?: { source: string; file?: string; runWith?: string; typescript: boolean };
  /** `<!-- not run: … -->`: why it does not run. */
  skip?: string;
  /** `<!-- keeps running: … -->`: a server the later examples of the doc use. */
  keepsRunning?: string;
}

export interface DocFile {
  name: string;
  text: string;
  from: string;
}

const RUNNABLE = new Set(["sh", "bash", "shell", "console", "js", "mjs", "ts"]);
const DIRECTIVE = /^<!--\s*(not run|keeps running):\s*(.*?)\s*-->$/;

interface Fence {
  line: number;
  lang: string;
  body: string[];
  directive?: { kind: string; reason: string };
  heading: string;
  /** Nothing but blank lines between the block before and this one. */
  adjacent: boolean;
}

function fences(text: string): Fence[] {
  const lines = text.split("\n");
  const out: Fence[] = [];
  let heading = "";
  let previousEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) heading = h[1]!;
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$/.exec(line);
    if (!open) continue;
    const [, indent, marker, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j]!.trim() !== marker; j++) body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === "") k--;
    const before = k >= 0 ? lines[k]!.trim() : "";
    const d = DIRECTIVE.exec(before);
    if (/^<!--\s*(not run|keeps running|skip|run)\b/i.test(before) && !d) throw new Error(`line ${k + 1}: a directive is \`<!-- not run: REASON -->\` or \`<!-- keeps running: REASON -->\`, got ${before}`);
    if (d && !d[2]) throw new Error(`line ${k + 1}: \`<!-- ${d[1]}: … -->\` needs its reason`);
    const adjacent = out.length > 0 && lines.slice(previousEnd + 1, i).every((l) => l.trim() === "");
    out.push({ line: i + 1, lang: lang!.toLowerCase(), body, directive: d ? { kind: d[1]!, reason: d[2]! } : undefined, heading, adjacent });
    i = previousEnd = j;
  }
  return out;
}

/** Where an unquoted `#` starts a comment in one line of shell, or -1. */
export function commentStart(line: string): number {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") { if (c === "'") quote = undefined; continue; }
    if (c === "\\") { i++; continue; }
    if (quote === '"') { if (c === '"') quote = undefined; continue; }
    if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return i;
  }
  return -1;
}

const OPENERS = new Set(["do", "then", "{", "case"]);
const CLOSERS = new Set(["done", "fi", "}", "esac"]);

/** Splits a `sh` block into commands, each with the output its `# →` comments document. */
export function shellSteps(body: string[], firstLine: number): Step[] {
  const steps: Step[] = [];
  let current: Step | undefined;
  let heredoc: string | undefined;
  let depth = 0;
  body.forEach((line, i) => {
    if (heredoc !== undefined) {
      current!.command += `\n${line}`;
      if (line.trim() === heredoc) heredoc = undefined;
    } else {
      const hash = commentStart(line);
      const code = hash < 0 ? line : line.slice(0, hash);
      const comment = hash < 0 ? "" : line.slice(hash + 1);
      const documented = /→\s?(.*)$/.exec(comment)?.[1];
      if (!current && code.trim() === "") {
        // A comment of its own: output of the command before it, or just a remark.
        if (documented !== undefined && steps.length > 0) steps.at(-1)!.output.push(documented);
        return;
      }
      if (current) current.command += `\n${line}`;
      else current = { command: line, line: firstLine + 1 + i, output: [] };
      if (documented !== undefined) current.output.push(documented);
      const here = /<<-?\s*['"]?(\w+)['"]?/.exec(code);
      if (here) heredoc = here[1];
      for (const word of code.split(/[\s;|&()]+/)) {
        if (OPENERS.has(word)) depth++;
        else if (CLOSERS.has(word)) depth--;
      }
      if (heredoc !== undefined || depth > 0 || code.trimEnd().endsWith("\\")) return;
    }
    if (heredoc === undefined && depth <= 0) {
      steps.push(current!);
      current = undefined;
      depth = 0;
    }
  });
  if (current) throw new Error(`line ${current.line}: the command does not end (an open heredoc, loop or continuation)`);
  return steps;
}

/** Splits a `console` block into `$ ` commands and the output shown after each. */
export function consoleSteps(body: string[], firstLine: number): Step[] {
  const steps: Step[] = [];
  let continued = false;
  body.forEach((line, i) => {
    const step = steps.at(-1);
    if (continued) {
      step!.command += `\n${line.replace(/^> /, "")}`;
    } else if (line.startsWith("$ ")) {
      steps.push({ command: line.slice(2), line: firstLine + 1 + i, output: [] });
    } else if (step) {
      if (line.trim() === "^C") step.ctrlC = { after: [] };
      else (step.ctrlC ? step.ctrlC.after : step.output).push(line);
      return;
    } else if (line.trim() !== "") {
      throw new Error(`line ${firstLine + 1 + i}: output before any \`$ \` command`);
    }
    continued = line.trimEnd().endsWith("\\");
  });
  return steps;
}

/** The runnable examples of one markdown file, and the files it shows. */
export function examplesOf(doc: string, text: string): { examples: Example[]; files: DocFile[] } {
  const examples: Example[] = [];
  const files: DocFile[] = [];
  const all = fences(text);
  all.forEach((f, n) => {
    const id = `${doc}:${f.line}`;
    const promptless = f.lang === "" && f.body[0]?.startsWith("$ ");
    if (!RUNNABLE.has(f.lang) && !promptless) {
      if (f.directive) throw new Error(`${id}: \`<!-- ${f.directive.kind}: … -->\` before a ${f.lang || "untagged"} block, which does not run anyway`);
      const named = /^(?:#|\/\/)\s*([\w.-]+\.(?:ya?ml|json|txt))\s*$/.exec(f.body[0] ?? "");
      if (named) files.push({ name: named[1]!, text: `${f.body.join("\n")}\n`, from: id });
      return;
    }
    const example: Example = { id, doc, line: f.line, lang: f.lang || "console", heading: f.heading, steps: [] };
    if (f.directive?.kind === "not run") example.skip = f.directive.reason;
    if (f.directive?.kind === "keeps running") example.keepsRunning = f.directive.reason;
    if (["js", "mjs", "ts"].includes(f.lang)) {
      const header = /^\/\/\s*([\w.-]+\.m?[jt]s)\b.*?run with `([^`]+)`/.exec(f.body[0] ?? "");
      example.script = { source: `${f.body.join("\n")}\n`, file: header?.[1], runWith: header?.[2], typescript: f.lang === "ts" };
    } else {
      example.steps = f.lang === "console" || promptless ? consoleSteps(f.body, f.line) : shellSteps(f.body, f.line);
      // A json block right after a sh block is the answer of its last command.
      const next = all[n + 1];
      const last = example.steps.at(-1);
      if (next?.adjacent && next.lang === "json" && last && last.output.length === 0 && !promptless && f.lang !== "console") {
        last.output.push(...next.body);
      }
    }
    examples.push(example);
  });
  return { examples, files };
}

export function readExamples(root: string, docs: string[]): { examples: Example[]; files: DocFile[] } {
  const examples: Example[] = [];
  const files: DocFile[] = [];
  for (const doc of docs) {
    const got = examplesOf(doc, readFileSync(path.join(root, doc), "utf8"));
    examples.push(...got.examples);
    files.push(...got.files);
  }
  return { examples, files };
}
