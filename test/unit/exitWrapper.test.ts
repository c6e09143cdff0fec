/**
 * The notifyExit wrapper, run for real with /bin/sh and wget against a local HTTP server
 * standing in for the Queue service's Put Message: the body it POSTs decodes (base64, as
 * the Functions host reads it) to a report that names the job, the attempt and the exit
 * code, and the wrapper exits with the command's own code.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReport, reportText, wrapCommand } from "../../src/exitReport.js";

let server: Server;
let url: string;
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/q/messages?sv=x&sig=y`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Runs the wrapped command; resolves with its exit code, its output, and what it posted. */
function run(
  command: string[],
  onStart?: (pid: number) => void,
): Promise<{ code: number | null; out: string; posted: string | undefined }> {
  const before = bodies.length;
  const argv = wrapCommand(command, "jwrap", 2, "tok/en+=");
  return new Promise((resolve) => {
    // In its own process group, as a container is: the wrapper signals its whole group.
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      env: { PATH: process.env.PATH, BURST_EXIT_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    if (onStart) child.stdout.once("data", () => onStart(child.pid!));
    child.on("close", (code) => resolve({ code, out, posted: bodies[before] }));
  });
}

const decoded = (posted: string | undefined) =>
  Buffer.from(/<MessageText>(.*)<\/MessageText>/.exec(posted ?? "")![1]!, "base64").toString();

describe("the exit-report wrapper", () => {
  for (const code of [0, 3, 42, 255]) {
    it(`exits ${code} when the command does, and reports ${code}`, async () => {
      const r = await run(["sh", "-c", `echo "arg: $1"; exit ${code}`, "sh", "with 'quotes' and $dollars"]);
      expect(r.code).toBe(code);
      expect(r.out).toBe("arg: with 'quotes' and $dollars\n");
      expect(decoded(r.posted)).toBe(reportText("jwrap", 2, "tok/en+=", code));
      expect(readReport(JSON.parse(decoded(r.posted)))).toEqual({ jobId: "jwrap", attempt: 2, token: "tok/en+=", exitCode: code });
    });
  }

  it("passes SIGTERM on to the command and reports the code a shell gives a command killed by it", async () => {
    const r = await run(["sh", "-c", "echo started; sleep 30"], (pid) => process.kill(pid, "SIGTERM"));
    expect(r.code).toBe(143);
    expect(readReport(JSON.parse(decoded(r.posted))).exitCode).toBe(143);
  });

  it("hides the report URL from the command's environment", async () => {
    const r = await run(["sh", "-c", 'echo "url=[$BURST_EXIT_URL]"']);
    expect(r.out).toBe("url=[]\n");
  });

  it("refuses a message that is not a report, so it goes to poison", () => {
    expect(() => readReport({ v: 1, job: "jwrap", attempt: 1, token: "t", code: [1, 2] })).toThrow(/not an exit report/);
    expect(() => readReport("garbage")).toThrow(/not an exit report/);
  });
});
