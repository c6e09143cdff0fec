import { describe, expect, it, vi } from "vitest";
import { nextPollingDelay, decodeMessage, encodeMessage, MIN_POLLING_INTERVAL_MS } from "../src/queueListener.js";
import { compileRoute } from "../src/routes.js";
import { parseHostConfig, parseTimeSpan, resolveAppSettings } from "../src/hostConfig.js";
import { MAX_TIMEOUT_MS, parseSchedule, TimerListener, type ListenerLock } from "../src/timer.js";

describe("queue polling backoff", () => {
  it("grows from 100 ms towards maxPollingInterval and never passes it", () => {
    let d = MIN_POLLING_INTERVAL_MS;
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) { d = nextPollingDelay(d, 2000, () => 0.5); seen.push(d); }
    expect(seen[0]).toBe(200);
    expect(seen.every((x, i) => i === 0 || x >= seen[i - 1]!)).toBe(true);
    expect(Math.max(...seen)).toBe(2000);
  });

  it("keeps jitter within the bounds", () => {
    for (const r of [0, 0.25, 0.999]) {
      const d = nextPollingDelay(400, 60_000, () => r);
      expect(d).toBeGreaterThanOrEqual(640);
      expect(d).toBeLessThanOrEqual(960);
    }
  });
});

describe("queue message encoding", () => {
  it("round-trips base64 and rejects text that is not base64", () => {
    expect(decodeMessage(encodeMessage("héllo {json}", "base64"), "base64")).toBe("héllo {json}");
    expect(decodeMessage("not base64!", "base64")).toBeUndefined();
    expect(decodeMessage("abc", "base64")).toBeUndefined();
    expect(decodeMessage("plain", "none")).toBe("plain");
  });

  it("rejects base64 that does not decode to UTF-8", () => {
    expect(decodeMessage(Buffer.from([0xff, 0xfe, 0xfd]).toString("base64"), "base64")).toBeUndefined();
  });
});

describe("route templates", () => {
  it("matches literals case-insensitively and extracts parameters", () => {
    expect(compileRoute("jobs/{id}").match("/Jobs/abc")).toEqual({ id: "abc" });
    expect(compileRoute("jobs/{id}/logs").match("/jobs/abc")).toBeUndefined();
    expect(compileRoute("jobs/{id?}").match("/jobs")).toEqual({});
    expect(compileRoute("files/{*path}").match("/files/a/b%20c")).toEqual({ path: "a/b c" });
    expect(compileRoute("n/{x:int}").match("/n/12")).toEqual({ x: "12" });
    expect(compileRoute("n/{x:int}").match("/n/ab")).toBeUndefined();
  });

  it("refuses malformed templates with the segment named", () => {
    expect(() => compileRoute("a/{b")).toThrow(/cannot parse segment "\{b"/);
    expect(() => compileRoute("a/{*b}/c")).toThrow(/catch-all must be last/);
  });
});

describe("host.json", () => {
  it("applies the Functions defaults, including newBatchThreshold = batchSize/2 × cores", () => {
    const c = parseHostConfig({ version: "2.0" }, 4);
    expect(c.queues).toEqual({ batchSize: 16, newBatchThreshold: 32, maxPollingIntervalMs: 2000, visibilityTimeoutMs: 0, maxDequeueCount: 5, messageEncoding: "base64" });
    expect(c.routePrefix).toBe("api");
  });

  it("rejects bad values with the field and the value quoted", () => {
    expect(() => parseHostConfig({ version: "2.0", extensions: { queues: { batchSize: 64 } } }, 1)).toThrow(/batchSize must be an integer from 1 to 32, got 64/);
    expect(() => parseHostConfig({ version: "2.0", extensions: { queues: { messageEncoding: "utf8" } } }, 1)).toThrow(/messageEncoding must be "base64" or "none", got "utf8"/);
    expect(() => parseHostConfig({ version: "1.0" }, 1)).toThrow(/version must be "2.0"/);
    expect(() => parseTimeSpan("5s", "x")).toThrow(/TimeSpan/);
  });

  it("parses TimeSpans with days and fractions", () => {
    expect(parseTimeSpan("00:00:02", "x")).toBe(2000);
    expect(parseTimeSpan("1.00:00:00", "x")).toBe(86_400_000);
    expect(parseTimeSpan("00:00:00.5", "x")).toBe(500);
  });

  it("resolves %AppSetting% references and names a missing one", () => {
    expect(resolveAppSettings("q-%A%", { A: "x" })).toBe("q-x");
    expect(() => resolveAppSettings("%MISSING%", {})).toThrow(/"MISSING"/);
  });
});

describe("timer schedules", () => {
  it("reads 6-field NCRONTAB in UTC", () => {
    const s = parseSchedule("0 */5 * * * *");
    expect(s.next(new Date("2026-01-01T10:02:30Z")).toISOString()).toBe("2026-01-01T10:05:00.000Z");
  });

  it("reads TimeSpan intervals", () => {
    expect(parseSchedule("00:00:30").next(new Date("2026-01-01T00:00:00Z")).toISOString()).toBe("2026-01-01T00:00:30.000Z");
  });

  it("refuses 5-field cron with a clear message", () => {
    expect(() => parseSchedule("*/5 * * * *")).toThrow(/needs 6 fields/);
  });
});

describe("a timer further away than setTimeout can wait", () => {
  it("is neither fired at once (Node fires a timeout over 24.8 days after 1 ms) nor missed when it comes", async () => {
    // The next 1 January is 25 days and a minute away: just past what one setTimeout can wait.
    const next = Date.parse("2027-01-01T00:00:00Z");
    vi.useFakeTimers({ now: next - MAX_TIMEOUT_MS - 60_000, toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      let held = false;
      const lock = { get held() { return held; }, tryHold: async () => (held = true), release: async () => { held = false; } } as unknown as ListenerLock;
      const fired: number[] = [];
      const listener = new TimerListener({ schedule: parseSchedule("0 0 0 1 1 *"), runOnStartup: false, lock, fire: async () => void fired.push(Date.now()), log: () => {} });
      await listener.start();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fired).toEqual([]);
      await vi.advanceTimersByTimeAsync(MAX_TIMEOUT_MS + 1_000);
      expect(fired).toEqual([next]);
      await listener.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
