/**
 * Parser for the sim runtime's shell subset. A command is either argv (exec form) or
 * `sh -c "<script>"`; the script is a POSIX-sh-compatible subset:
 *
 *   statements separated by `;`, `&&` or newlines; `# comments`
 *   sleep S…   (fractional seconds, suffixes s/m/h/d)    echo [-n] WORDS…
 *   seq [FIRST [INCR]] LAST    true    false    :    exit [K]
 *   for NAME in WORDS… | $(seq …); do BODY; done     (nested loops too)
 *   words: plain, 'single', "double" quoted; $NAME and ${NAME} expand loop variables
 *   and the container's environment variables (unset → empty)
 *
 * Anything else is rejected up front with a SimUnsupported error naming the construct.
 */

export type WordPart = { text: string } | { variable: string };
export interface Word {
  parts: WordPart[];
  /** True when any part was quoted or expanded: such a word is never a keyword. */
  quotedOrExpanded: boolean;
}
export type Statement =
  | { kind: "command"; name: string; args: Word[] }
  | { kind: "for"; variable: string; items: { kind: "words"; words: Word[] } | { kind: "seq"; args: Word[] }; body: Script };
/** An and-list: statements joined by `&&`. */
export type Chain = Statement[];
/** Chains separated by `;` or newlines. */
export type Script = Chain[];

export const BUILTINS = ["sleep", "echo", "seq", "true", "false", ":", "exit"] as const;
export const SHELLS: ReadonlySet<string> = new Set(["sh", "/bin/sh", "/usr/bin/sh", "bash", "/bin/bash", "/usr/bin/bash"]);
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "while", "until", "case", "esac", "function", "select", "{", "}", "!"]);

export class SimUnsupported extends Error {
  override name = "SimUnsupported";
}

type Token = { kind: "word"; word: Word } | { kind: "sep"; newline: boolean } | { kind: "and" } | { kind: "subst"; inner: string };

/** Turns a container command into a script, or explains why the sim cannot run it. */
export function parseCommand(argv: readonly string[]): Script {
  if (argv.length === 0) throw new SimUnsupported("empty command");
  if (SHELLS.has(argv[0]!)) {
    if (argv[1] !== "-c" || argv[2] === undefined) throw new SimUnsupported(`only '${argv[0]} -c "<script>"' is supported for shells`);
    return parseScript(argv[2]);
  }
  const name = argv[0]!.split("/").pop()!;
  if (!(BUILTINS as readonly string[]).includes(name) || name === "exit" || name === ":") {
    throw new SimUnsupported(`unsupported command '${argv[0]}'`);
  }
  // Exec form: no shell, so no expansion; every argument is literal.
  return [[{ kind: "command", name, args: argv.slice(1).map((text) => ({ parts: [{ text }], quotedOrExpanded: true })) }]];
}

export function parseScript(source: string): Script {
  const tokens = tokenize(source);
  let pos = 0;

  const isKeyword = (t: Token | undefined, kw: string) =>
    t?.kind === "word" && !t.word.quotedOrExpanded && t.word.parts.length === 1 && (t.word.parts[0] as { text: string }).text === kw;
  const literal = (w: Word) => w.parts.map((p) => ("text" in p ? p.text : `$${p.variable}`)).join("");

  function parseList(until?: string): Script {
    const script: Script = [];
    let chain: Chain = [];
    for (;;) {
      while (tokens[pos]?.kind === "sep") pos++;
      const t = tokens[pos];
      if (t === undefined) {
        if (until) throw new SimUnsupported(`missing '${until}'`);
        break;
      }
      if (until && isKeyword(t, until)) {
        pos++;
        break;
      }
      chain.push(parseStatement());
      const next = tokens[pos];
      if (next?.kind === "and") {
        pos++;
        // sh lets an and-list continue on the next line.
        while (tokens[pos]?.kind === "sep" && (tokens[pos] as { newline: boolean }).newline) pos++;
        continue;
      }
      script.push(chain);
      chain = [];
      if (next !== undefined && next.kind !== "sep" && !(until && isKeyword(next, until))) {
        throw new SimUnsupported(`unexpected '${next.kind === "word" ? literal(next.word) : "$(…)"}'`);
      }
    }
    if (chain.length > 0) throw new SimUnsupported("'&&' at the end of the script");
    return script;
  }

  function parseStatement(): Statement {
    const t = tokens[pos];
    if (t?.kind !== "word") throw new SimUnsupported(t?.kind === "and" ? "'&&' without a command before it" : "command substitution $(…) outside 'for … in $(seq …)'");
    if (isKeyword(t, "for")) return parseFor();
    if (t.word.quotedOrExpanded) throw new SimUnsupported(`a command name must be a plain word (got '${literal(t.word)}')`);
    const name = literal(t.word);
    if (RESERVED.has(name) || ["do", "done", "in"].includes(name)) throw new SimUnsupported(`'${name}' is not supported`);
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(name)) throw new SimUnsupported(`variable assignment '${name}'`);
    if (!(BUILTINS as readonly string[]).includes(name)) throw new SimUnsupported(`unsupported command '${name}'`);
    pos++;
    const args: Word[] = [];
    while (tokens[pos]?.kind === "word") args.push((tokens[pos++] as { word: Word }).word);
    if (tokens[pos]?.kind === "subst") throw new SimUnsupported("command substitution $(…) outside 'for … in $(seq …)'");
    return { kind: "command", name, args };
  }

  function parseFor(): Statement {
    pos++; // for
    const v = tokens[pos];
    if (v?.kind !== "word" || v.word.quotedOrExpanded || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(literal(v.word))) throw new SimUnsupported("'for' needs a variable name");
    const variable = literal(v.word);
    pos++;
    if (!isKeyword(tokens[pos], "in")) throw new SimUnsupported("'for' without 'in' is not supported");
    pos++;
    let items: Extract<Statement, { kind: "for" }>["items"];
    const first = tokens[pos];
    if (first?.kind === "subst") {
      const inner = parseScript(first.inner);
      const only = inner.length === 1 && inner[0]!.length === 1 ? inner[0]![0]! : undefined;
      if (only?.kind !== "command" || only.name !== "seq") throw new SimUnsupported("only $(seq …) is supported as a command substitution");
      items = { kind: "seq", args: only.args };
      pos++;
    } else {
      const words: Word[] = [];
      while (tokens[pos]?.kind === "word" && !isKeyword(tokens[pos], "do")) words.push((tokens[pos++] as { word: Word }).word);
      items = { kind: "words", words };
    }
    while (tokens[pos]?.kind === "sep") pos++;
    if (!isKeyword(tokens[pos], "do")) throw new SimUnsupported("'for … in …' must be followed by '; do'");
    pos++;
    const body = parseList("done");
    return { kind: "for", variable, items, body };
  }

  return parseList();
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let parts: WordPart[] | null = null;
  let quoted = false;
  const addText = (s: string) => {
    parts ??= [];
    const last = parts[parts.length - 1];
    if (last && "text" in last) last.text += s;
    else parts.push({ text: s });
  };
  const endWord = () => {
    if (parts) tokens.push({ kind: "word", word: { parts, quotedOrExpanded: quoted } });
    parts = null;
    quoted = false;
  };
  const readVariable = (): string => {
    // at src[i] === "$"
    if (src[i + 1] === "{") {
      const close = src.indexOf("}", i + 2);
      const name = close < 0 ? "" : src.slice(i + 2, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SimUnsupported(`parameter expansion '${close < 0 ? src.slice(i) : src.slice(i, close + 1)}'`);
      i = close + 1;
      return name;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1));
    if (!m) throw new SimUnsupported(`special parameter '$${src[i + 1] ?? ""}'`);
    i += 1 + m[0].length;
    return m[0];
  };

  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t") { endWord(); i++; continue; }
    if (c === "\n" || c === ";") {
      if (src[i + 1] === ";") throw new SimUnsupported("';;'");
      endWord(); tokens.push({ kind: "sep", newline: c === "\n" }); i++; continue;
    }
    if (c === "#" && parts === null) { while (i < src.length && src[i] !== "\n") i++; continue; }
    if (c === "&") {
      if (src[i + 1] !== "&") throw new SimUnsupported("background jobs (&)");
      endWord(); tokens.push({ kind: "and" }); i += 2; continue;
    }
    if (c === "|") throw new SimUnsupported(src[i + 1] === "|" ? "'||'" : "pipes (|)");
    if (c === ">" || c === "<") throw new SimUnsupported("redirections (< >)");
    if (c === "`") throw new SimUnsupported("backquote command substitution");
    if (c === "(" || c === ")") throw new SimUnsupported("subshells ( )");
    if (c === "\\") {
      if (src[i + 1] === "\n") { i += 2; continue; }
      quoted = true; addText(src[i + 1] ?? ""); i += 2; continue;
    }
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) throw new SimUnsupported("unterminated single quote");
      quoted = true; addText(src.slice(i + 1, close)); i = close + 1; continue;
    }
    if (c === '"') {
      quoted = true; addText(""); i++;
      for (;;) {
        if (i >= src.length) throw new SimUnsupported("unterminated double quote");
        const d = src[i]!;
        if (d === '"') { i++; break; }
        if (d === "\\" && ['"', "\\", "$", "`", "\n"].includes(src[i + 1] ?? "")) {
          if (src[i + 1] !== "\n") addText(src[i + 1]!);
          i += 2; continue;
        }
        if (d === "`") throw new SimUnsupported("backquote command substitution");
        if (d === "$") {
          if (src[i + 1] === "(") throw new SimUnsupported("command substitution $(…) inside quotes");
          (parts ??= []).push({ variable: readVariable() });
          continue;
        }
        addText(d); i++;
      }
      continue;
    }
    if (c === "$") {
      if (src[i + 1] === "(") {
        if (src[i + 2] === "(") throw new SimUnsupported("arithmetic expansion $((…))");
        if (parts !== null) throw new SimUnsupported("command substitution $(…) inside a word");
        const close = src.indexOf(")", i + 2);
        if (close < 0) throw new SimUnsupported("unterminated $(");
        tokens.push({ kind: "subst", inner: src.slice(i + 2, close) });
        i = close + 1;
        continue;
      }
      quoted = true;
      (parts ??= []).push({ variable: readVariable() });
      continue;
    }
    addText(c); i++;
  }
  endWord();
  return tokens;
}
