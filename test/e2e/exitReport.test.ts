/**
 * notifyExit: the container reports its own exit through the exits queue, and the monitor
 * step starts from that report. Through the whole local stack: the wrapper really runs
 * (sh and wget, under both emulator runtimes) and really POSTs to Azurite through the SAS.
 * The pools' safety-net poll is ten minutes, so a job that ends within a test ended from
 * its report; each test also asserts the recorded detection source.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueServiceClient } from "@azure/storage-queue";
import { cancelJob } from "../../src/scheduler/cancel.js";
import { reportText } from "../../src/exitReport.js";
import type { JobRecord } from "../../src/model.js";
import { startStack, type Stack } from "../support/harness.js";
import { waitUntil } from "../support/wait.js";

const pool = (name: string) => ({
  default: { maxConcurrency: 3, resourceGroup: `rg-${name}-${Date.now()}`, notifyExit: true, notifyPollSeconds: 600 },
});

/** Posts a message to the SAS URL as the wrapper does (base64 text in a QueueMessage). */
async function post(url: string, text: string): Promise<number> {
  const body = `<QueueMessage><MessageText>${Buffer.from(text).toString("base64")}</MessageText></QueueMessage>`;
  const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/xml" } });
  return r.status;
}

function expectReported(job: JobRecord, state: string, exitCode: number): void {
  const a = job.attempts.at(-1)!;
  expect({
    state: job.state,
    exitCode: a.exitCode,
    reported: a.exitReport?.exitCode,
    detectedBy: a.detectedBy,
    reportsExit: a.reportsExit,
  }).toEqual({ state, exitCode, reported: exitCode, detectedBy: "report", reportsExit: true });
}

for (const runtime of ["process", "sim"] as const) {
  describe(`exit reports under the ${runtime} runtime`, () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ runtime, pools: pool(`exits-${runtime}`) });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it("ends a job that exits 0 from its report, Succeeded with exit code 0", async () => {
      const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo hello; sleep 0.3"], timeoutSeconds: 120 });
      const job = await stack.waitFor(id);
      expectReported(job, "Succeeded", 0);
      expect((await stack.deps.logs.read(id, 1)).text).toContain("hello");
    });

    it("keeps a non-zero exit code through the wrapper", async () => {
      const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo failing; exit 3"], timeoutSeconds: 120 });
      expectReported(await stack.waitFor(id), "Failed", 3);
    });
  });
}

describe("what an exit report can and cannot do", () => {
  let stack: Stack;
  let queues: QueueServiceClient;
  beforeAll(async () => {
    stack = await startStack({ pools: pool("exits-safety") });
    queues = QueueServiceClient.fromConnectionString(stack.env.AzureWebJobsStorage!);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("gives a SAS that can add messages to the exits queue and do nothing else", async () => {
    const url = await stack.deps.exitReports!.postUrl(new Date(Date.now() + 600_000));
    const exits = stack.deps.config.names.exitsQueue;
    const sas = new URL(url).search;
    const other = new URL(url);
    other.pathname = other.pathname.replace(`/${exits}/`, `/${stack.deps.config.names.jobsQueue}/`);
    await queues.getQueueClient(stack.deps.config.names.jobsQueue).createIfNotExists();
    const base = url.replace(/\/messages\?.*$/, "");
    const tries = {
      add: await post(url, "{}"),
      addToAnotherQueue: await post(other.toString(), "{}"),
      peek: (await fetch(`${base}/messages${sas}&peekonly=true`)).status,
      receive: (await fetch(`${base}/messages${sas}`)).status,
      clear: (await fetch(`${base}/messages${sas}`, { method: "DELETE" })).status,
      deleteQueue: (await fetch(`${base}${sas}`, { method: "DELETE" })).status,
      metadata: (await fetch(`${base}${sas}&comp=metadata`)).status,
    };
    expect(tries).toEqual({ add: 201, addToAnotherQueue: 403, peek: 403, receive: 403, clear: 403, deleteQueue: 403, metadata: 403 });
    const expired = await stack.deps.exitReports!.postUrl(new Date(Date.now() - 60_000));
    expect(await post(expired, "{}")).toBe(403);
  });

  it("lets neither a forged report nor the job's own early report end a job that still runs", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "sleep 600"], timeoutSeconds: 900 });
    const running = await stack.waitFor(id, (j) => j.state === "Running");
    const url = await stack.deps.exitReports!.postUrl(new Date(Date.now() + 600_000));
    const launchedAt = running.attempts[0]!.launchedAt!;
    // Forged: a wrong token, and another attempt's report. Both dropped without a trace on the job.
    expect(await post(url, reportText(id, 1, "forged-token", 0))).toBe(201);
    expect(await post(url, reportText(id, 2, stack.deps.exitReports!.token(id, 2, launchedAt), 0))).toBe(201);
    // The job's own token (its container lying, or reporting early): accepted once, checked against ARM, and the job goes on.
    expect(await post(url, reportText(id, 1, stack.deps.exitReports!.token(id, 1, launchedAt), 0))).toBe(201);
    const after = await stack.waitFor(id, (j) => j.attempts[0]!.exitReport !== undefined && j.monitorSeq > running.monitorSeq);
    expect(after.state).toBe("Running");
    expect(after.attempts[0]!.exitReport?.exitCode).toBe(0);
    await cancelJob(stack.deps, id);
    const ended = await stack.waitFor(id);
    expect(ended.state).toBe("Canceled");
    expect(ended.attempts[0]!.detectedBy).toBe("poll");
  });

  it("stores the report's SAS nowhere in clear: not in the job record, the log, or the hosts' output", async () => {
    const id = await stack.enqueue({ image: "alpine", command: ["sh", "-c", "echo url=$BURST_EXIT_URL"], timeoutSeconds: 120 });
    const job = await stack.waitFor(id);
    expectReported(job, "Succeeded", 0);
    const log = (await stack.deps.logs.read(id, 1)).text;
    // The wrapper takes the URL out of the command's environment.
    expect(log).toContain("url=\n");
    const seen = [JSON.stringify(job), log, ...stack.hosts.map((h) => h.output())].join("\n");
    expect(seen).not.toMatch(/sig=/);
    expect(seen).not.toContain(stack.deps.config.names.exitsQueue + "/messages");
  });

  it("parks an unreadable report in the exits poison queue", async () => {
    const poison = queues.getQueueClient(`${stack.deps.config.names.exitsQueue}-poison`);
    const url = await stack.deps.exitReports!.postUrl(new Date(Date.now() + 600_000));
    expect(await post(url, "not a report")).toBe(201);
    const text = (m: { messageText: string }) => Buffer.from(m.messageText, "base64").toString();
    const parked = await waitUntil(
      async () =>
        (await poison.peekMessages({ numberOfMessages: 32 }).catch(() => undefined))?.peekedMessageItems.find(
          (m) => text(m) === "not a report",
        ),
      { what: "the parked report", timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(text(parked)).toBe("not a report");
  });
});
