/**
 * Runs a parsed sim script with real timers: `sleep` waits, `echo`/`seq` write lines.
 * Messages and exit codes follow GNU coreutils and dash where the subset overlaps.
 */
import type { Script, Statement, Word } from "./script.js";

export interface SimIo {
  write(text: string): void;
  env: Record<string, string>;
  signal: AbortSignal;
}

class Exit {
  constructor(readonly code: number) {}
}

export class Aborted extends Error {
  override name = "Aborted";
  constructor() {
    super("the container was killed");
  }
}

const YIELD_EVERY = 500;

export async function runScript(script: Script, io: SimIo): Promise<number> {
  const vars = new Map<string, string>();
  let steps = 0;
  let status = 0;

  const expand = (w: Word) => w.parts.map((p) => ("text" in p ? p.text : (vars.get(p.variable) ?? io.env[p.variable] ?? ""))).join("");

  async function list(s: Script): Promise<void> {
    for (const chain of s) {
      for (let i = 0; i < chain.length; i++) {
        if (i > 0 && status !== 0) break;
        await statement(chain[i]!);
      }
    }
  }

  async function statement(st: Statement): Promise<void> {
    if (io.signal.aborted) throw new Aborted();
    if (++steps % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    if (st.kind === "for") {
      const items = st.items.kind === "words" ? st.items.words.map(expand) : seqValues(st.items.args.map(expand));
      if (typeof items === "string") {
        io.write(items);
        status = 1;
        return;
      }
      status = 0;
      for (const item of items) {
        vars.set(st.variable, item);
        await list(st.body);
      }
      return;
    }
    const args = st.args.map(expand);
    status = await builtin(st.name, args);
  }

  async function builtin(name: string, args: string[]): Promise<number> {
    switch (name) {
      case "true":
      case ":":
        return 0;
      case "false":
        return 1;
      case "echo": {
        let newline = true;
        while (args[0] === "-n") {
          newline = false;
          args = args.slice(1);
        }
        io.write(args.join(" ") + (newline ? "\n" : ""));
        return 0;
      }
      case "seq": {
        const values = seqValues(args);
        if (typeof values === "string") {
          io.write(values);
          return 1;
        }
        if (values.length > 0) io.write(values.join("\n") + "\n");
        return 0;
      }
      case "sleep":
        return sleep(args);
      case "exit": {
        if (args.length === 0) throw new Exit(status);
        if (!/^\d+$/.test(args[0]!)) {
          io.write(`sh: exit: Illegal number: ${args[0]}\n`);
          throw new Exit(2);
        }
        throw new Exit(Number(args[0]) & 255);
      }
      default:
        io.write(`sh: ${name}: not found\n`);
        return 127;
    }
  }

  async function sleep(args: string[]): Promise<number> {
    if (args.length === 0) {
      io.write("sleep: missing operand\n");
      return 1;
    }
    let seconds = 0;
    for (const a of args) {
      const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
      if (!m) {
        io.write(`sleep: invalid time interval '${a}'\n`);
        return 1;
      }
      seconds += Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        io.signal.removeEventListener("abort", onAbort);
        resolve();
      }, seconds * 1000);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Aborted());
      };
      io.signal.addEventListener("abort", onAbort, { once: true });
    });
    return 0;
  }

  try {
    await list(script);
    return status;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    throw err;
  }
}

/** GNU seq for integers: `seq LAST`, `seq FIRST LAST`, `seq FIRST INCR LAST`. A string is an error message. */
export function seqValues(args: string[]): string[] | string {
  if (args.length === 0 || args.length > 3) return args.length === 0 ? "seq: missing operand\n" : `seq: extra operand '${args[3]}'\n`;
  for (const a of args) if (!/^[-+]?\d+$/.test(a)) return `seq: invalid floating point argument: '${a}' (the sim runtime supports integers only)\n`;
  const n = args.map(Number);
  const [first, incr, last] = n.length === 1 ? [1, 1, n[0]!] : n.length === 2 ? [n[0]!, 1, n[1]!] : [n[0]!, n[1]!, n[2]!];
  if (incr === 0) return `seq: invalid Zero increment value: '${args[1]}'\n`;
  const out: string[] = [];
  for (let v = first; incr > 0 ? v <= last : v >= last; v += incr) out.push(String(v));
  return out;
}
