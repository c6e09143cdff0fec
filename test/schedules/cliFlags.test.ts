/** `burst schedule create` refuses bad flags and files itself, on one line, before calling the API. */
import { describe, expect, it } from "vitest";
import { cli } from "../cli/cli.js";

// Nothing listens here: a command that got as far as the API would say it cannot reach it.
const env = { BURST_URL: "http://127.0.0.1:9" };

describe("burst schedule create", () => {
  it("names the bad flag, the missing option or the unreadable file, on one line", async () => {
    const cases: [string[], string][] = [
      [
        ["--cron", "* * * * *", "--concurrency", "Never", "job.yaml"],
        "burst: option '--concurrency <policy>' argument 'Never' is invalid. Allowed choices are Allow, Forbid, Replace.\n",
      ],
      [["job.yaml"], "burst: required option '--cron <expr>' not specified\n"],
      [
        ["--cron", "* * * * *", "--history-limit", "0", "job.yaml"],
        "burst: option '--history-limit <n>' argument '0' is invalid. must be a whole number ≥ 1.\n",
      ],
      [["--cron", "* * * * *", "/nonexistent/job.yaml"], "burst: cannot read /nonexistent/job.yaml: no such file\n"],
    ];
    for (const [args, stderr] of cases) {
      expect(await cli(["schedule", "create", "nightly", ...args], env), args.join(" ")).toMatchObject({ code: 1, stdout: "", stderr });
    }
  });

  it("reads a template from stdin and goes no further than the API", async () => {
    const r = await cli(["schedule", "create", "nightly", "--cron", "0 2 * * *", "-"], env, "image: alpine\ncommand: [echo, hi]\n");
    expect(r).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^burst: cannot reach the Burst API at http:\/\/127\.0\.0\.1:9 \(BURST_URL\)/),
    });
  });
});
