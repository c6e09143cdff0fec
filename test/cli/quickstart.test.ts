import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../support/stack.js";
import { startApiStack } from "../api/apiClient.js";
import { startCli } from "./cli.js";

describe("burst run with a public IP (process runtime)", () => {
  let stack: Stack;
  let env: Record<string, string>;
  beforeAll(async () => {
    const started = await startApiStack({ runtime: "process" });
    stack = started.stack;
    env = { BURST_URL: stack.hosts[0]!.url, BURST_API_KEY: started.key };
  });
  afterAll(async () => { await stack?.stop(); });

  it("prints the address of ACI's quick start container, which answers curl, and Ctrl-C cancels it with exit 130", async () => {
    const run = startCli(["run", "--public-ip", "-p", "80", "--timeout", "300", "mcr.microsoft.com/azuredocs/aci-helloworld"], env);
    const stderr = await run.waitForOutput((err) => /reachable at http:\/\/\S+\//.test(err), "stderr");
    const url = /reachable at (http:\/\/\S+\/)/.exec(stderr)![1]!;
    let page = "";
    for (let i = 0; i < 50 && !page; i++) {
      page = await fetch(url).then((res) => res.text(), () => "");
      if (!page) await new Promise((res) => setTimeout(res, 100));
    }
    expect(page).toContain("Welcome to Azure Container Instances!");
    await run.waitForOutput((out) => out.includes("listening on port 80"));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toMatch(/burst: canceling job \w+ \(Ctrl-C again/);
    expect(done.stderr).toMatch(/burst: job \w+ was canceled\n$/);
    expect(stack.emulator.stats().aliveCount).toBe(0);
  });
});
