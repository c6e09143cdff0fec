import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { GroupView } from "../../src/aci/backend.js";
import type { JobRecord } from "../../src/model.js";
import { decidePoll, nextPoll, type PollInput } from "../../src/scheduler/pollDecision.js";
import { POLL_REFRESH_SECONDS, worthWriting } from "../../src/scheduler/monitor.js";

const pool = loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true" }).pools.get("default")!;
const launchedAt = "2026-12-02T10:00:00.000Z";
const at = (seconds: number) => new Date(Date.parse(launchedAt) + seconds * 1000);

const job = (patch: Partial<JobRecord> = {}): JobRecord => ({
  id: "jpoll", pool: "default", priority: 0, labels: {}, state: "Running", createdAt: launchedAt, updatedAt: launchedAt,
  spec: { image: "alpine", cpu: 1, memoryGb: 1, timeoutSeconds: 60, retries: 0, pool: "default", priority: 0, labels: {} },
  attempts: [{ n: 1, group: "burst-jpoll-1", launchedAt, restartCount: 0 }],
  platformFailures: 0, ownFailures: 0, monitorSeq: 3, log: { lines: 0, bytes: 0 }, costUsd: 0,
  lastPolledAt: "2026-12-02T10:00:20.000Z", nextLogReadAt: "2026-12-02T10:00:25.000Z",
  ...patch,
} as JobRecord);

const running: GroupView = {
  provisioningState: "Succeeded", state: "Running", containerState: "Running", startTime: "2026-12-02T10:00:03.000Z",
  restartCount: 0, pullStartedAt: "2026-12-02T10:00:01.000Z", events: [], ports: [], tags: {},
};
const decide = (j: JobRecord, view: GroupView | undefined, seconds: number) => decidePoll({ job: j, view, pool, now: at(seconds) });

describe("a poll's decision", () => {
  it("ends a job whose group is gone as a platform failure, billed to the last poll that saw it alive", () => {
    expect(decide(job(), undefined, 30)).toEqual({
      kind: "end", readLog: false,
      end: { outcome: "PlatformError", reason: "the container group disappeared (last seen alive 2026-12-02T10:00:20.000Z)", stoppedAt: "2026-12-02T10:00:20.000Z" },
    });
  });

  it("ends a group ACI could not provision, billing only if it began pulling", () => {
    const failed = { ...running, provisioningState: "Failed", containerState: undefined, pullStartedAt: undefined, events: [{ message: "image not found" }] };
    expect(decide(job(), failed, 30)).toMatchObject({ kind: "end", end: { outcome: "PlatformError", reason: "ACI could not provision the container group (image not found)", stoppedAt: undefined } });
  });

  it("marks an async capacity refusal (an InsufficientCapacity event) so the job moves on without counting a retry", () => {
    const refused = { ...running, provisioningState: "Failed", containerState: undefined, pullStartedAt: undefined, events: [{ name: "InsufficientCapacity.", message: "not available in the location" }] };
    expect(decide(job(), refused, 30)).toMatchObject({ kind: "end", end: { outcome: "PlatformError", noCapacity: true } });
    // With no events to tell (the usual instance view at 2023-05-01), the failure is taken as the placement's.
    expect(decide(job(), { ...refused, events: [] }, 30)).toMatchObject({ kind: "end", end: { noCapacity: true } });
    const other = { ...refused, events: [{ name: "Failed", message: "image not found" }] };
    expect(decide(job(), other, 30)).toMatchObject({ kind: "end", end: { noCapacity: undefined } });
  });

  it("ends a Spot attempt that was evicted, billed up to now, and leaves a Regular one alone", () => {
    const evicted = { ...running, state: "Pending", containerState: "Terminated", detailStatus: "Evicted", events: [{ name: "SpotEviction", type: "Warning" }] };
    const onSpot = job({ attempts: [{ n: 1, group: "burst-jpoll-1", launchedAt, restartCount: 0, placement: "s/rg/eastus/Spot" }] });
    expect(decide(onSpot, evicted, 30)).toMatchObject({ kind: "end", readLog: true, end: { outcome: "PlatformError", reason: "evicted from Spot (ACI: Evicted)", stoppedAt: at(30).toISOString() } });
    const onRegular = job({ attempts: [{ n: 1, group: "burst-jpoll-1", launchedAt, restartCount: 0, placement: "s/rg/eastus/Regular" }] });
    expect(decide(onRegular, { ...evicted, detailStatus: undefined }, 30)).toMatchObject({ kind: "watch" });
  });

  it("ends a terminated container by its exit code, reading its last log lines", () => {
    const exited = (exitCode?: number, state = "Succeeded"): GroupView => ({ ...running, state, containerState: "Terminated", exitCode, finishTime: "2026-12-02T10:00:09.000Z" });
    expect(decide(job(), exited(0), 30)).toMatchObject({ kind: "end", readLog: true, end: { outcome: "Succeeded", reason: "exited with code 0", stoppedAt: "2026-12-02T10:00:09.000Z" } });
    expect(decide(job(), exited(3, "Failed"), 30)).toMatchObject({ kind: "end", end: { outcome: "Failed", reason: "exited with code 3", exitCode: 3 } });
    expect(decide(job(), exited(undefined, "Failed"), 30)).toMatchObject({ kind: "end", end: { outcome: "PlatformError" } });
  });

  it("fails a job stopped outside Burst without a retry, but counts Burst's own unrecorded stop as its own", () => {
    const stopped: GroupView = { ...running, state: "Stopped", containerState: "Terminated", detailStatus: "Container stopped per client request", finishTime: "2026-12-02T10:00:09.000Z" };
    expect(decide(job(), stopped, 30)).toMatchObject({ kind: "end", end: { outcome: "Failed", reason: 'stopped outside Burst (ACI: "Container stopped per client request"); not retried' } });
    expect(decide(job({ cancelRequested: true }), stopped, 30)).toMatchObject({ kind: "end", end: { outcome: "Canceled", reason: "canceled" } });
    expect(decide(job(), stopped, 61)).toMatchObject({ kind: "end", end: { outcome: "TimedOut", reason: "timeoutSeconds (60 s) reached" } });
  });

  it("stops a running job that is canceled or past its deadline, reading the log first once it has started", () => {
    expect(decide(job({ cancelRequested: true }), running, 30)).toEqual({ kind: "stop", outcome: "Canceled", reason: "canceled", readLogFirst: true });
    expect(decide(job(), running, 60)).toEqual({ kind: "stop", outcome: "TimedOut", reason: "timeoutSeconds (60 s) reached", readLogFirst: true });
    expect(decide(job(), { ...running, containerState: "Waiting", state: "Pending" }, 60)).toMatchObject({ kind: "stop", readLogFirst: false });
  });

  it("watches a running job, reading its log when due, and notices a platform restart", () => {
    expect(decide(job(), running, 24)).toEqual({ kind: "watch", logDue: false, readLog: false, provisioning: false, restarted: false });
    expect(decide(job(), running, 25)).toEqual({ kind: "watch", logDue: true, readLog: true, provisioning: false, restarted: false });
    expect(decide(job(), { ...running, containerState: "Waiting", state: "Pending" }, 25)).toMatchObject({ kind: "watch", logDue: true, readLog: false, provisioning: true });
    expect(decide(job(), { ...running, restartCount: 1 }, 10)).toMatchObject({ kind: "watch", restarted: true });
  });

  it("polls again no later than the deadline, and no sooner than ARM's read budget allows", () => {
    const input = (seconds: number): PollInput => ({ job: job(), view: running, pool, now: at(seconds) });
    const soon = nextPoll(input(58), false, { lines: 0, bytes: 0, gap: false });
    expect(soon.delaySeconds).toBeLessThanOrEqual(2);
    const chatty = nextPoll(input(25), true, { lines: 5000, bytes: 200_000, gap: false });
    const quiet = nextPoll(input(25), true, { lines: 0, bytes: 0, gap: false });
    expect(chatty.nextLogAt).toBeLessThan(quiet.nextLogAt);
    expect(chatty.delaySeconds).toBeGreaterThan(0);
  });
});

describe("polling a job whose container reports its exit (notifyExit)", () => {
  const none = { lines: 0, bytes: 0, gap: false };
  const long = job({ spec: { ...job().spec!, timeoutSeconds: 3600 }, nextLogReadAt: undefined });
  const reporting = (patch: Partial<JobRecord["attempts"][number]> = {}) =>
    ({ ...long, attempts: [{ ...long.attempts[0]!, reportsExit: true, ...patch }] }) as JobRecord;
  const next = (j: JobRecord, seconds: number) => nextPoll({ job: j, view: running, pool, now: at(seconds) }, true, none).delaySeconds;

  it("polls a running container only as a safety net, at most every notifyPollSeconds or when its log is due", () => {
    const polled = next(long, 20);
    const safety = next(reporting(), 20);
    expect(polled).toBeLessThan(safety);
    expect(safety).toBeLessThanOrEqual(pool.notifyPollSeconds);
  });

  it("keeps the deadline's turn: the safety-net poll never lands after it", () => {
    const j = reporting();
    expect(next({ ...j, spec: { ...j.spec!, timeoutSeconds: 25 } }, 20)).toBeCloseTo(5, 5);
  });

  it("looks again soon, backing off, after a report that ARM does not show yet, and never later than an ordinary poll", () => {
    const report = (secondsAgo: number) => reporting({ exitReport: { at: at(20 - secondsAgo).toISOString(), exitCode: 0 } });
    expect([next(report(0), 20), next(report(1), 20)]).toEqual([0.5, 1]);
    expect(next(report(30), 20)).toBe(next(long, 20));
  });
});

describe("whether a poll's record is worth a write", () => {
  const polled = (j: JobRecord, seconds: number) => ({ ...j, monitorSeq: j.monitorSeq + 1, lastPolledAt: at(seconds).toISOString() });

  it("skips a poll that would change only its chain token and poll time, while the last written poll is under 15 s old", () => {
    const j = job();
    expect(worthWriting(j, polled(j, 34), at(34))).toBe(false);
  });

  it("writes once the last written poll is 15 s old, so the reconciler and a vanished group's cost see a recent poll", () => {
    const j = job();
    expect(POLL_REFRESH_SECONDS).toBe(15);
    expect(worthWriting(j, polled(j, 35), at(35))).toBe(true);
    expect(worthWriting(job({ lastPolledAt: undefined }), polled(j, 21), at(21))).toBe(true);
  });

  it("writes a poll that stored log lines, saw the start or moved the log's next turn", () => {
    const j = job();
    expect(worthWriting(j, { ...polled(j, 22), log: { lines: 2, bytes: 10 } }, at(22))).toBe(true);
    expect(worthWriting(j, { ...polled(j, 22), startedAt: running.startTime }, at(22))).toBe(true);
    expect(worthWriting(j, { ...polled(j, 22), nextLogReadAt: at(40).toISOString() }, at(22))).toBe(true);
  });
});
