import { describe, expect, it } from "vitest";
import { readMeter } from "../src/billing.js";
import { ManualClock } from "../src/clock.js";
import { ACI_LOG_LIMITS, cutLog, formatNs, LogBuffer, renderLog, type LogLine } from "../src/logs.js";
import { decide, FIVE_MINUTES_MS, ONE_HOUR_MS } from "../src/rateWindow.js";
import { createRng } from "../src/rng.js";
import { fullBucket, take } from "../src/tokenBucket.js";

describe("token bucket", () => {
  const limit = { capacity: 3, refillPerSecond: 2 };

  it("admits a full bucket's burst, then refuses with the time until the next token", () => {
    let state = fullBucket(limit, 0);
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = take(state, limit, 0);
      expect(r.admitted).toBe(true);
      remaining.push(r.remaining);
      state = r.state;
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = take(state, limit, 0);
    expect(refused.admitted).toBe(false);
    expect(refused.retryAfterMs).toBe(500);
  });

  it("refills at its rate but never above capacity", () => {
    let state = fullBucket(limit, 0);
    for (let i = 0; i < 3; i++) state = take(state, limit, 0).state;
    expect(take(state, limit, 499).admitted).toBe(false);
    expect(take(state, limit, 500).admitted).toBe(true);
    expect(take(state, limit, 60_000).remaining).toBe(2);
  });
});

describe("create and delete windows", () => {
  const limits = { per5Min: 2, perHour: 3 };

  it("admits until the five-minute window is full and says when a slot frees up", () => {
    expect(decide([], limits, 1000)).toMatchObject({ admitted: true, remaining5m: 1, remaining1h: 2 });
    const blocked = decide([1000, 2000], limits, 3000);
    expect(blocked.admitted).toBe(false);
    expect(blocked.retryAfterMs).toBe(1000 + FIVE_MINUTES_MS - 3000);
  });

  it("applies the hourly window after the five-minute one has emptied", () => {
    const times = [0, 1, FIVE_MINUTES_MS + 10];
    const now = 2 * FIVE_MINUTES_MS + 20;
    const d = decide(times, limits, now);
    expect(d.admitted).toBe(false);
    expect(d.retryAfterMs).toBe(ONE_HOUR_MS - now);
    expect(decide(times, limits, ONE_HOUR_MS + 1).admitted).toBe(true);
  });
});

describe("billing meter", () => {
  it("bills each interval from pull start to stop, rounding every interval up to a second", () => {
    const reading = readMeter(
      [
        { start: 0, end: 2500, cpu: 2, memoryInGB: 4 },
        { start: 10_000, end: 10_200, cpu: 1, memoryInGB: 1.5 },
      ],
      99_000,
    );
    expect(reading).toEqual({ seconds: 2.7, billedSeconds: 4, vcpuSeconds: 7, gbSeconds: 13.5 });
  });

  it("keeps counting an open interval up to now and does not add a second for float noise", () => {
    expect(readMeter([{ start: 1000, cpu: 1, memoryInGB: 1 }], 4000.0000001).billedSeconds).toBe(3);
    expect(readMeter([], 5000)).toEqual({ seconds: 0, billedSeconds: 0, vcpuSeconds: 0, gbSeconds: 0 });
  });
});

describe("log cut", () => {
  const lines = (n: number, text = (i: number) => `line ${i}`): LogLine[] =>
    Array.from({ length: n }, (_, i) => ({ ns: BigInt(i + 1), text: text(i + 1) }));

  it("returns everything up to 4 MB while the group runs", () => {
    expect(cutLog(lines(5000), { stopped: false })).toHaveLength(5000);
  });

  it("returns only the last 1,000 lines once the group has stopped", () => {
    const kept = cutLog(lines(5000, (i) => String(i)), { stopped: true });
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.text).toBe("4001");
    expect(kept.at(-1)!.text).toBe("5000");
  });

  it("returns only the last 16 KB of whole lines when that is smaller than 1,000 lines", () => {
    const kept = cutLog(lines(1000, (i) => `${i}`.padStart(99, "x")), { stopped: true }); // 100 bytes a line
    expect(kept).toHaveLength(163);
    expect(Buffer.byteLength(renderLog(kept, false))).toBeLessThanOrEqual(ACI_LOG_LIMITS.stoppedBytes);
    expect(kept.at(-1)!.text.endsWith("1000")).toBe(true);
  });

  it("applies tail after the cut", () => {
    expect(cutLog(lines(5000), { stopped: true, tail: 3 }).map((l) => l.text)).toEqual(["line 4998", "line 4999", "line 5000"]);
    expect(cutLog(lines(2), { stopped: false, tail: 10 })).toHaveLength(2);
    expect(cutLog(lines(2), { stopped: false, tail: 0 })).toHaveLength(0);
  });
});

describe("log timestamps", () => {
  it("formats nanoseconds as RFC 3339 with nine fractional digits", () => {
    expect(formatNs(1_795_759_200_123_456_789n)).toBe("2026-11-27T06:00:00.123456789Z");
    expect(formatNs(1_795_759_200_000_000_007n)).toBe("2026-11-27T06:00:00.000000007Z");
  });

  it("stamps lines strictly increasingly even when the clock stands still", () => {
    const clock = new ManualClock();
    const buffer = new LogBuffer();
    const stamps = ["a", "b", "c"].map((t) => buffer.append(t, clock.now()).ns);
    expect(stamps[1]! - stamps[0]!).toBe(1n);
    expect(stamps[2]! - stamps[1]!).toBe(1n);
    buffer.clear();
    expect(buffer.append("after clear", clock.now()).ns).toBeGreaterThan(stamps[2]!);
  });

  it("keeps a bounded buffer that drops the oldest lines first", () => {
    const buffer = new LogBuffer(100);
    for (let i = 0; i < 100; i++) buffer.append(`line ${i}`, 0);
    const all = buffer.all();
    expect(all.at(-1)!.text).toBe("line 99");
    expect(renderLog(all, false).length).toBeLessThanOrEqual(100);
  });
});

describe("seeded random source", () => {
  it("repeats the same sequence for the same seed and differs for another", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe("manual clock", () => {
  it("fires timers in due order as time advances", () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b"), 20);
    const cancelled = clock.setTimeout(() => fired.push("x"), 5);
    clock.setTimeout(() => {
      fired.push("a");
      clock.setTimeout(() => fired.push("c"), 15);
    }, 10);
    clock.clearTimeout(cancelled);
    clock.advance(24);
    expect(fired).toEqual(["a", "b"]);
    clock.advance(1);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(25);
  });
});
