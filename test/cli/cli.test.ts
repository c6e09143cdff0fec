import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinal } from "../../src/jobState.js";
import { freePort } from "../../tools/launcher/net.js";
import type { Stack } from "../support/harness.js";
import { startApiStack, type Api } from "../api/apiClient.js";
import { cli, startCli } from "./cli.js";

describe("the burst CLI against a local stack", () => {
  let stack: Stack;
  let api: Api;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    ({ stack, api } = await startApiStack());
    env = { BURST_URL: stack.hosts[0]!.url, BURST_API_KEY: api.key };
    dir = mkdtempSync(path.join(os.tmpdir(), "burst-cli-"));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("burst run prints the container's output and exits with its exit code, like docker run", async () => {
    const failed = await cli(["run", "alpine", "--", "sh", "-c", "echo hello from burst; echo second; exit 7"], env);
    expect(failed.stdout).toBe("hello from burst\nsecond\n");
    expect(failed.code).toBe(7);
    const ok = await cli(["run", "--cpu", "0.5", "--memory", "1", "--timeout", "60", "alpine", "--", "echo", "fine"], env);
    expect(ok).toMatchObject({ code: 0, stdout: "fine\n" });
    // No terminal: no progress lines on stderr.
    expect(ok.stderr).toBe("");
  });

  it("burst run passes env and secure env, and the secure value shows up nowhere Burst answers", async () => {
    const secret = "cli-secret-value-8731";
    const r = await cli(["run", "-o", "json", "-e", "MODE=fast", "--secure-env", `TOKEN=${secret}`, "--name", "envs", "alpine", "--", "sh", "-c", "echo mode=$MODE"], env);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer).toMatchObject({ state: "Succeeded", exitCode: 0, logs: "mode=fast\n" });
    const status = await cli(["status", answer.id, "-o", "json"], env);
    expect(JSON.parse(status.stdout).spec.secureEnvNames).toEqual(["TOKEN"]);
    for (const out of [r.stdout, r.stderr, status.stdout, status.stderr]) expect(out).not.toContain(secret);
  });

  it("burst run says on stderr when ACI dropped output before Burst copied it, and the record and /api/run say so too", async () => {
    // 3,000 lines at once, then exit: ACI keeps the last 1,000 once the container stops, and
    // whichever reads first (the follower here, or the monitor) must notice the cut. `seq`
    // writes them in one go; a loop echoing them one by one lets the sim runtime yield
    // half-way, where a read could land and catch them all.
    const script = "seq 1 3000";
    const r = await cli(["run", "--timeout", "60", "alpine", "--", "sh", "-c", script], env);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).length).toBeLessThan(3000);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("3000");
    expect(r.stderr).toMatch(/^burst: ACI dropped some of job \w+'s output before Burst could copy it: \d+ lines were kept$/m);
    const ran = await api.post("/api/run", { image: "alpine", command: ["sh", "-c", script], timeoutSeconds: 60, waitSeconds: 60 });
    expect(ran.status).toBe(200);
    expect(ran.json).toMatchObject({ state: "Succeeded", logsTruncated: true, outputLost: true });
    expect((await api.get(`/api/jobs/${ran.json.id}`)).json.log.truncated).toBe(true);
  });

  it("burst run exits 124 for a job that timed out and says so on one line", async () => {
    const r = await cli(["run", "--timeout", "1", "alpine", "--", "sleep", "30"], env);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/^burst: job \w+ timed out: .+\n$/);
  });

  it("burst logs -f streams lines while the job runs and returns when it ends", async () => {
    const submitted = await cli(["run", "-d", "alpine", "--", "sh", "-c", "echo one; sleep 6; echo two"], env);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[a-z0-9]+$/);
    const follow = startCli(["logs", "-f", id], env);
    await follow.waitForOutput((out) => out.includes("one\n"));
    const job = (await stack.deps.jobs.get(id))!.value;
    expect(isFinal(job.state)).toBe(false);
    expect(follow.stdout()).not.toContain("two");
    const done = await follow.done;
    expect(done).toMatchObject({ code: 0, stdout: "one\ntwo\n" });
    const plain = await cli(["logs", "--timestamps", id], env);
    expect(plain.stdout.split("\n").filter(Boolean)).toEqual([expect.stringMatching(/Z one$/), expect.stringMatching(/Z two$/)]);
  });

  it("burst submit takes JSON and YAML files with several jobs each, and ls, status, cancel, pools and cost show them", async () => {
    writeFileSync(path.join(dir, "a.yaml"), "image: alpine\nname: a1\ncommand: [echo, a1]\nlabels: {team: cli}\n---\nimage: alpine\nname: a2\ncommand: [echo, a2]\nlabels: {team: cli}\n");
    writeFileSync(path.join(dir, "b.json"), JSON.stringify([{ image: "alpine", name: "b1", command: ["sleep", "60"], timeoutSeconds: 120, labels: { team: "cli" } }]));
    const submitted = await cli(["submit", path.join(dir, "a.yaml"), path.join(dir, "b.json"), "-o", "json"], env);
    expect(submitted.code).toBe(0);
    const jobs = JSON.parse(submitted.stdout) as { id: string; name: string; state: string }[];
    expect(jobs.map((j) => j.name)).toEqual(["a1", "a2", "b1"]);

    const ls = await cli(["ls", "--label", "team=cli", "-o", "json"], env);
    expect((JSON.parse(ls.stdout).jobs as { id: string }[]).map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    const table = await cli(["ls", "--label", "team=cli"], env);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+POOL\s+STATE\s+EXIT\s+COST\s+CREATED\s+IMAGE$/);
    expect(table.stdout).toContain("b1");

    await api.waitFor(jobs[0]!.id, (j) => isFinal(j.state as never));
    const status = await cli(["status", jobs[0]!.id], env);
    expect(status.stdout).toMatch(/^id:\s+\w+$/m);
    expect(status.stdout).toMatch(/^state:\s+Succeeded$/m);
    expect(status.stdout).toMatch(/^ATTEMPT\s+OUTCOME/m);

    const cancel = await cli(["cancel", jobs[2]!.id], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(jobs[2]!.id);
    await api.waitFor(jobs[2]!.id, (j) => isFinal(j.state as never));
    const again = await cli(["cancel", jobs[2]!.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^burst: job \w+ has already finished \(Canceled\); there is nothing to cancel\n$/);

    const pools = await cli(["pools"], env);
    expect(pools.stdout.split("\n")[0]).toMatch(/^POOL\s+SLOTS\s+WAITING/);
    expect(pools.stdout).toMatch(/^default\s+\d+\/5\s+0\/10000/m);
    // A job of the run succeeded, so the pool has learned at least its shape.
    expect(pools.stdout.split("\n")[0]).toMatch(/\sESTIMATES$/);
    expect(pools.stdout).toMatch(/^default\s.*\s[1-9]\d* shapes, \d+ runs/m);

    const cost = await cli(["cost", "--by", "job", "-o", "json"], env);
    const answer = JSON.parse(cost.stdout);
    expect(answer.rows.map((r: { job: string }) => r.job)).toEqual(expect.arrayContaining([jobs[0]!.id, jobs[1]!.id]));
    const costTable = await cli(["cost", "--by", "day"], env);
    expect(costTable.stdout.split("\n")[0]).toMatch(/^DAY\s+ESTIMATE\s+AZURE BILL\s+DIFFERENCE\s+RUN TIME\s+JOBS\s+ATTEMPTS$/);
    expect(costTable.stdout).toMatch(/^TOTAL\s+\$\d/m);
  });

  it("burst submit refuses a file with an invalid spec, naming file, index and field, and submits nothing", async () => {
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, "- image: alpine\n- image: alpine\n  cpu: 64\n");
    const ids = async () => (JSON.parse((await cli(["ls", "-o", "json", "--limit", "1000"], env)).stdout).jobs as { id: string }[]).map((j) => j.id);
    const before = await ids();
    const r = await cli(["submit", file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`burst: nothing submitted: ${file}[1]: cpu must be at most 31 vCPU (ACI's per-group limit)\n`);
    expect(await ids()).toEqual(before);
    // Rules only the API knows (configured pools) come back mapped to the file too.
    writeFileSync(file, "image: alpine\npool: elsewhere\n");
    const pool = await cli(["submit", file], env);
    expect(pool.stderr).toMatch(new RegExp(`^burst: nothing submitted: invalid job spec: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\[0\\] pool must name a configured pool`));
  });

  it("fails with one line and a non-zero exit when the API is unreachable, refuses the key, or the job is unknown", async () => {
    const port = await freePort();
    const down = await cli(["ls", "--url", `http://127.0.0.1:${port}`], {});
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`burst: cannot reach the Burst API at http://127.0.0.1:${port} (--url) — is \`npm start\` running?\n`);
    const key = await cli(["pools", "--key", "wrong"], env);
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(/^burst: the Burst API at \S+ \(BURST_URL\) refused the key \(401\): set BURST_API_KEY or pass --key\n$/);
    const schemeless = await cli(["ls", "--url", "localhost:7071"], {});
    expect(schemeless).toMatchObject({ code: 1, stderr: 'burst: --url "localhost:7071" has no scheme: use http://localhost:7071 (or https://)\n' });
    const unknown = await cli(["status", "jnosuchjob"], env);
    expect(unknown).toMatchObject({ code: 1, stderr: "burst: there is no job jnosuchjob\n" });
    const flag = await cli(["run", "--cpu", "lots", "alpine"], env);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr.trim().split("\n")).toHaveLength(1);
    expect(flag.stderr).toMatch(/^burst: option '--cpu <vcpu>' argument 'lots' is invalid/);
  });

  it("has --help for every command", async () => {
    for (const command of [[], ["submit"], ["run"], ["ls"], ["status"], ["logs"], ["cancel"], ["pools"], ["cost"]]) {
      const r = await cli([...command, "--help"], {});
      expect(r.code, command.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: burst/);
      if (command.length) expect(r.stdout).toContain("--url <url>");
    }
  });
});
