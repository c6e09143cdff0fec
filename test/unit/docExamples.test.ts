import { describe, expect, it } from "vitest";
import { consoleSteps, examplesOf, shellSteps } from "../support/docExamples.js";
import { compareOutput } from "../support/outputShape.js";

const md = (...lines: string[]) => lines.join("\n");

describe("reading examples from markdown", () => {
  it("runs sh, console and js blocks and untagged blocks with a prompt, and nothing else", () => {
    const { examples } = examplesOf("x.md", md(
      "```sh", "burst pools", "```",
      "```console", "$ burst ls", "```",
      "```", "$ curl -s x", "```",
      "```", "burst run [options] IMAGE", "```",
      "```yaml", "image: alpine", "```",
      "```json", "{}", "```",
      "```js", "console.log(1)", "```",
    ));
    expect(examples.map((e) => e.line)).toEqual([1, 4, 7, 19]);
  });

  it("skips a block only with a written reason, and refuses a directive it does not know", () => {
    const { examples } = examplesOf("x.md", md("<!-- not run: needs Azure -->", "```sh", "az login", "```"));
    expect(examples[0]!.skip).toBe("needs Azure");
    expect(() => examplesOf("x.md", md("<!-- not run: -->", "```sh", "az login", "```"))).toThrow("needs its reason");
    expect(() => examplesOf("x.md", md("<!-- skip run -->", "```sh", "az login", "```"))).toThrow("a directive is");
    expect(() => examplesOf("x.md", md("<!-- not run: data -->", "```json", "{}", "```"))).toThrow("does not run anyway");
  });

  it("takes a json block right after a sh block as its last command's answer, and a named data block as a file", () => {
    const { examples, files } = examplesOf("x.md", md(
      "```sh", "curl -s a", "curl -s b", "```", "```json", "{\"id\": 1}", "```",
      "```yaml", "# batch.yaml", "image: alpine", "```",
    ));
    expect(examples[0]!.steps.map((s) => s.output)).toEqual([[], ["{\"id\": 1}"]]);
    expect(files).toEqual([{ name: "batch.yaml", text: "# batch.yaml\nimage: alpine\n", from: "x.md:8" }]);
  });

  it("splits shell into commands across continuations, heredocs and loops, with their → outputs", () => {
    const steps = shellSteps([
      "curl -s -X POST x \\", "  -d '{\"a\":1}'", "# → 202 {\"id\":\"j…\"}",
      "cat <<'EOF'", "do not count: done", "EOF",
      "while :; do", "  # inside", "  break", "done",
      "echo hi   # says → \"hi\"",
      "# a remark",
    ], 10);
    expect(steps.map((s) => [s.line, s.command.split("\n").length, s.output])).toEqual([
      [11, 2, ["202 {\"id\":\"j…\"}"]], [14, 3, []], [17, 4, []], [21, 1, ["\"hi\""]],
    ]);
  });

  it("reads a console session's output, and where it shows a Ctrl-C", () => {
    const steps = consoleSteps(["$ burst run x", "listening", "^C", "burst: canceled", "$ echo $?", "130"], 1);
    expect(steps).toEqual([
      { command: "burst run x", line: 2, output: ["listening"], ctrlC: { after: ["burst: canceled"] } },
      { command: "echo $?", line: 6, output: ["130"] },
    ]);
  });
});

describe("comparing output with the doc's", () => {
  it("lets ids, times, addresses and money differ, and nothing else", () => {
    expect(compareOutput(["burst: job jmwymf7azfqieipx70w is reachable at http://127.0.0.37/"], "burst: job jmx5l61jv1mijn4q5v9 is reachable at http://127.0.0.50/\n")).toEqual([]);
    expect(compareOutput(["1 message redriven"], "2 messages redriven\n")).toHaveLength(1);
  });

  it("compares table headers, not rows", () => {
    const doc = ["ID                   STATE    NAME     FROM", "jmwymg0f1k2j3h4g5f6  Waiting  resize   batch.yaml[0]"];
    expect(compareOutput(doc, "ID                   STATE    NAME    FROM\njmx5l65af2nw97o3n41  Waiting  thumbs  b.yaml[3]\n")).toEqual([]);
    expect(compareOutput(doc, "ID                   STATE\njmx5l65af2nw97o3n41  Waiting\n")[0]).toContain("no table with the header ID | STATE | NAME | FROM");
    expect(compareOutput(doc, "ID                   STATE    NAME    FROM\n")[0]).toContain("has no rows");
  });

  it("compares fields by name and order", () => {
    const doc = ["id:        j1", "state:     Failed", "exit code: 3"];
    expect(compareOutput(doc, "id:    j2\nstate: Succeeded\nexit code: 0\n")).toEqual([]);
    expect(compareOutput(doc, "id:    j2\nstate: Succeeded\n")[0]).toContain("the doc shows the fields id, state, exit code; the output has id, state");
  });

  it("compares JSON by its top-level keys, and lists by length and their items' keys", () => {
    expect(compareOutput(["202 {\"id\":\"j…\",\"state\":\"Waiting\"}"], "{\"state\":\"Running\",\"id\":\"jx\"}")).toEqual([]);
    expect(compareOutput(["{\"queues\":[{\"queue\":\"jobs\"},…]}"], "{\"queues\":[]}")).toEqual([]);
    expect(compareOutput(["{\"id\":\"j…\",\"state\":\"Waiting\"}"], "{\"id\":\"jx\"}")[0]).toContain("the doc shows keys id, state; the output has id");
    expect(compareOutput(["[{\"id\":1},{\"id\":2}]"], "[{\"id\":1}]")[0]).toContain("the doc shows 2 items, the output has 1");
    expect(compareOutput(["{}"], "burst: oops")[0]).toContain("not JSON");
  });

  it("finds quoted text anywhere in the output", () => {
    expect(compareOutput(["\"Welcome to Azure Container Instances!\""], "<h1>Welcome to Azure Container Instances!</h1>")).toEqual([]);
    expect(compareOutput(["\"Welcome\""], "<h1>Hello</h1>")).toHaveLength(1);
  });
});
