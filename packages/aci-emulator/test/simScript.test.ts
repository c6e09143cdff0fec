import { describe, expect, it } from "vitest";
import { Aborted, runScript, seqValues } from "../src/sim/interpreter.js";
import { parseCommand, parseScript, SimUnsupported } from "../src/sim/script.js";

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ out: string; code: number }> {
  let out = "";
  const code = await runScript(parseCommand(argv), { write: (t) => (out += t), env, signal: new AbortController().signal });
  return { out, code };
}
const sh = (script: string, env?: Record<string, string>) => run(["/bin/sh", "-c", script], env);

describe("sim shell subset", () => {
  it("runs echo, seq, true and false separated by ; and newlines", async () => {
    expect(await sh("echo hello world; seq 3\ntrue")).toEqual({ out: "hello world\n1\n2\n3\n", code: 0 });
    expect(await sh("echo a; false")).toEqual({ out: "a\n", code: 1 });
  });

  it("skips the rest of an && chain after a failure, like sh", async () => {
    expect(await sh("false && echo skipped; echo next")).toEqual({ out: "next\n", code: 0 });
    expect(await sh("true &&\n echo continued")).toEqual({ out: "continued\n", code: 0 });
  });

  it("supports seq with a start, an increment and an end", async () => {
    expect(seqValues(["2", "4"])).toEqual(["2", "3", "4"]);
    expect(seqValues(["10", "-5", "0"])).toEqual(["10", "5", "0"]);
    expect(seqValues(["5", "1"])).toEqual([]);
    expect(await sh("seq 1.5")).toMatchObject({ code: 1 });
  });

  it("runs a for loop over $(seq …) with sleeps, expanding the loop variable", async () => {
    const { out, code } = await sh('for i in $(seq 1 3); do echo "tick $i"; sleep 0.01; done; echo done');
    expect(code).toBe(0);
    expect(out).toBe("tick 1\ntick 2\ntick 3\ndone\n");
  });

  it("loops over literal words and nests loops", async () => {
    const { out } = await sh("for a in x y; do for b in $(seq 2); do echo $a$b; done; done");
    expect(out).toBe("x1\nx2\ny1\ny2\n");
  });

  it("expands environment variables, quotes and ${NAME}, and leaves unset ones empty", async () => {
    const { out } = await sh(`echo "$GREETING, \${WHO}!" '$NOT' [$UNSET]`, { GREETING: "Hello", WHO: "ACI" });
    expect(out).toBe("Hello, ACI! $NOT []\n");
  });

  it("exits with the given code and stops the script there", async () => {
    expect(await sh("echo before; exit 3; echo after")).toEqual({ out: "before\n", code: 3 });
    expect(await sh("false; exit")).toMatchObject({ code: 1 });
  });

  it("sleeps for fractional seconds and reports a bad interval like coreutils", async () => {
    expect(await sh("sleep 0.02 && echo woke")).toEqual({ out: "woke\n", code: 0 });
    expect(await sh("sleep soon")).toEqual({ out: "sleep: invalid time interval 'soon'\n", code: 1 });
  });

  it("runs exec-form commands without a shell and without expansion", async () => {
    expect(await run(["echo", "$HOME", "x"])).toEqual({ out: "$HOME x\n", code: 0 });
    expect(await run(["/bin/sleep", "0.01"])).toEqual({ out: "", code: 0 });
  });

  it("supports echo -n by joining with the next output", async () => {
    expect((await sh("echo -n a; echo b")).out).toBe("ab\n");
  });

  it("stops a sleeping script when aborted", async () => {
    const controller = new AbortController();
    const running = runScript(parseScript("sleep 30"), { write: () => {}, env: {}, signal: controller.signal });
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(Aborted);
  });

  it.each([
    ["echo a | cat", "pipes"],
    ["echo a > file", "redirections"],
    ["ls -la", "unsupported command 'ls'"],
    ["if true; then echo; fi", "'if' is not supported"],
    ["X=1 echo", "variable assignment"],
    ["echo $(date)", "command substitution"],
    ["sleep 1 &", "background"],
    ["for i in $(ls); do echo; done", "unsupported command 'ls'"],
    ["for i in $(echo 1); do echo; done", "only $(seq …)"],
    ["echo `date`", "backquote"],
    ["echo $((1+2))", "arithmetic"],
    ["false || true", "'||'"],
    ["for i in 1 2; do echo $i", "missing 'done'"],
  ])("rejects %j with a message naming the construct", (script, message) => {
    expect(() => parseScript(script)).toThrow(SimUnsupported);
    expect(() => parseScript(script)).toThrow(message);
  });

  it("rejects commands that are neither a shell -c script nor a builtin", () => {
    expect(() => parseCommand(["node", "server.js"])).toThrow("unsupported command 'node'");
    expect(() => parseCommand(["/bin/sh", "script.sh"])).toThrow("-c");
  });
});
