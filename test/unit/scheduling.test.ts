import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideAdmission, neverFits, waitKey, type Holder } from "../../src/admission.js";
import { billedSeconds, billingStart, costUsd, worstCaseUsd, effectiveLimitSeconds, BUILT_IN_PRICES, COST_CAP_MARGIN_SECONDS, minimumCostCapUsd } from "../../src/pricing.js";
import { pollDelaySeconds, logReadDelaySeconds, readBudgetFloorSeconds } from "../../src/polling.js";
import { retryBackoffSeconds } from "../../src/retryBackoff.js";
import { cursorAfter, newLinesSince, normalizeTs, parseTimestamped } from "../../src/logCursor.js";
import { transition, canTransition, IllegalTransition, TRANSITIONS, newJobEvents } from "../../src/jobState.js";
import { seal, open, keyId, keyRing, EMPTY_RING, SecretKeyMissing, SecureValuesUnopenable } from "../../src/secrets.js";
import { JOB_STATES, type JobRecord } from "../../src/model.js";
import { randomBytes } from "node:crypto";

const prices = BUILT_IN_PRICES["eastus/Standard"]!;
const now = new Date("2026-11-27T12:00:00Z");
const holder = (reservedUsd: number, day = "2026-11-27"): Holder => ({ attempt: 1, reservedUsd, day, month: day.slice(0, 7), since: now.toISOString() });
const cand = (jobId: string, worstUsd: number, notBefore?: string) => ({ jobId, worstUsd, notBefore, key: jobId });

describe("admission", () => {
  it("admits no more than the free slots", () => {
    const d = decideAdmission({ holders: { a: holder(0), b: holder(0) }, spentDayUsd: 0, spentMonthUsd: 0 }, { maxConcurrency: 3, budget: {} }, [cand("c", 0), cand("d", 0)], now);
    expect(d.admit.map((c) => c.jobId)).toEqual(["c"]);
    expect(d.blocked).toBe("slots");
  });

  it("counts spent and reserved money against the window and lets the head block when the budget is short", () => {
    const view = { holders: { a: holder(3) }, spentDayUsd: 5, spentMonthUsd: 5 };
    const d = decideAdmission(view, { maxConcurrency: 10, budget: { dailyUsd: 10 } }, [cand("big", 2.5), cand("small", 0.1)], now);
    expect(d.admit).toEqual([]);
    expect(d.blocked).toBe("budget");
    const ok = decideAdmission(view, { maxConcurrency: 10, budget: { dailyUsd: 10 } }, [cand("x", 2), cand("y", 0.5)], now);
    expect(ok.admit.map((c) => c.jobId)).toEqual(["x"]);
  });

  it("ignores yesterday's reservations for today's window but not for the month", () => {
    const view = { holders: { a: holder(9, "2026-11-26") }, spentDayUsd: 0, spentMonthUsd: 0 };
    expect(decideAdmission(view, { maxConcurrency: 5, budget: { dailyUsd: 10 } }, [cand("x", 5)], now).admit).toHaveLength(1);
    expect(decideAdmission(view, { maxConcurrency: 5, budget: { monthlyUsd: 10 } }, [cand("x", 5)], now).admit).toHaveLength(0);
  });

  it("skips jobs in retry backoff without letting them block", () => {
    const d = decideAdmission({ holders: {}, spentDayUsd: 0, spentMonthUsd: 0 }, { maxConcurrency: 5, budget: {} }, [cand("later", 0, "2026-11-27T13:00:00Z"), cand("now", 0)], now);
    expect(d.admit.map((c) => c.jobId)).toEqual(["now"]);
  });

  it("never admits beyond the cap or the budget, for any ledger and line", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 20 }), fc.array(fc.float({ min: 0, max: 5, noNaN: true }), { maxLength: 20 }),
      fc.array(fc.float({ min: 0, max: 5, noNaN: true }), { maxLength: 30 }), fc.float({ min: 1, max: 100, noNaN: true }), fc.float({ min: 0, max: 50, noNaN: true }),
      (cap, held, line, daily, spent) => {
        const holders = Object.fromEntries(held.slice(0, cap).map((r, i) => [`h${i}`, holder(r)]));
        const d = decideAdmission({ holders, spentDayUsd: spent, spentMonthUsd: spent }, { maxConcurrency: cap, budget: { dailyUsd: daily } }, line.map((w, i) => cand(`c${i}`, w)), now);
        expect(Object.keys(holders).length + d.admit.length).toBeLessThanOrEqual(cap);
        const before = spent + Object.values(holders).reduce((s, h) => s + h.reservedUsd, 0);
        if (d.admit.length > 0) expect(before + d.admit.reduce((s, c) => s + c.worstUsd, 0)).toBeLessThanOrEqual(daily + 1e-9);
      }), { numRuns: 300 });
  });

  it("rejects jobs that can never fit, with the reason", () => {
    expect(neverFits(undefined, { dailyUsd: 1 })).toMatch(/needs timeoutSeconds or maxCostUsd/);
    expect(neverFits(2, { dailyUsd: 1 })).toMatch(/more than the pool's whole daily budget/);
    expect(neverFits(2, { monthlyUsd: 1.5 })).toMatch(/monthly budget/);
    expect(neverFits(undefined, {})).toBeUndefined();
  });

  it("orders the waiting line by priority, then arrival", () => {
    const keys = [waitKey(0, "2026-11-27T10:00:00Z", "a"), waitKey(5, "2026-11-27T11:00:00Z", "b"), waitKey(0, "2026-11-27T09:00:00Z", "c"), waitKey(-3, "2026-11-27T08:00:00Z", "d")];
    expect([...keys].sort().map((k) => k.slice(-1))).toEqual(["b", "c", "a", "d"]);
  });
});

describe("cost", () => {
  it("bills whole seconds from the pull to the stop, a started second counting", () => {
    expect(billedSeconds(0, 10_000)).toBe(10);
    expect(billedSeconds(0, 10_001)).toBe(11);
    expect(billedSeconds(0, 0)).toBe(0);
  });

  it("prices vCPU-seconds and GB-seconds from the table", () => {
    expect(costUsd(3600, 1, 0, prices)).toBeCloseTo(0.0405, 9);
    expect(costUsd(3600, 0, 1, prices)).toBeCloseTo(0.00445, 9);
    expect(costUsd(100, 2, 4, prices)).toBeCloseTo(100 * (2 * 0.0405 + 4 * 0.00445) / 3600, 9);
  });

  it("bounds the worst case by the timeout and by maxCostUsd, plus the enforcement slack", () => {
    const rate = (0.0405 + 0.00445) / 3600;
    expect(worstCaseUsd({ cpu: 1, memoryGb: 1, timeoutSeconds: 100 }, prices, 10)).toBeCloseTo(110 * rate, 9);
    expect(worstCaseUsd({ cpu: 1, memoryGb: 1, timeoutSeconds: 100000, maxCostUsd: 0.01 }, prices, 0)).toBeCloseTo(0.01, 9);
    expect(worstCaseUsd({ cpu: 1, memoryGb: 1 }, prices, 10)).toBeUndefined();
    // The cap's deadline comes early enough that a late stop, rounded up, stays within it.
    expect(effectiveLimitSeconds({ cpu: 1, memoryGb: 1, maxCostUsd: rate * 50 }, prices)).toBe(50 - COST_CAP_MARGIN_SECONDS);
  });
});

describe("the cost cap", () => {
  it("is never exceeded, whatever the size, the cap and a stop up to the margin late", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3100 }).map((n) => n / 100), fc.integer({ min: 1, max: 2400 }).map((n) => n / 10),
      fc.double({ min: 1e-6, max: 50, noNaN: true }), fc.double({ min: 0, max: COST_CAP_MARGIN_SECONDS, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }),
      (cpu, memoryGb, cap, lateness, startAfterLaunch) => {
        // Caps below this are refused at submission (poolRules): no run can promise them.
        fc.pre(cap >= minimumCostCapUsd({ cpu, memoryGb }, prices));
        const limit = effectiveLimitSeconds({ cpu, memoryGb, maxCostUsd: cap }, prices)!;
        // Launched at 0; billing starts at or after the launch; the stop comes `lateness` after the deadline.
        const start = Math.min(startAfterLaunch, limit) * 1000;
        const stop = (limit + lateness) * 1000;
        expect(costUsd(billedSeconds(start, stop), cpu, memoryGb, prices)).toBeLessThanOrEqual(cap + 1e-9);
      },
    ));
  });
});

describe("billing start", () => {
  const t = (s: number) => new Date(Date.parse("2026-01-01T00:00:00.000Z") + s * 1000).toISOString();
  it("takes the later of ACI's whole-second Pulling event and the create's acceptance, within a second", () => {
    expect(billingStart({ pullEvent: t(5), acceptedAt: t(5.4), stoppedAt: t(20) })).toEqual({ startMs: Date.parse(t(5.4)), basis: "pull-event", errorSeconds: 1 });
    expect(billingStart({ pullEvent: t(9), acceptedAt: t(5.4), stoppedAt: t(20) })).toEqual({ startMs: Date.parse(t(9)), basis: "pull-event", errorSeconds: 1 });
  });

  it("counts from the create's acceptance when ACI shows no events, with the time to the container's start as the possible error", () => {
    expect(billingStart({ acceptedAt: t(5.4), startedAt: t(12.1), stoppedAt: t(20) })).toEqual({ startMs: Date.parse(t(5.4)), basis: "accepted", errorSeconds: 7 });
    // A container that never started: the whole time to the stop is uncertain.
    expect(billingStart({ acceptedAt: t(5.4), stoppedAt: t(8) })).toEqual({ startMs: Date.parse(t(5.4)), basis: "accepted", errorSeconds: 3 });
    expect(billingStart({ stoppedAt: t(8) })).toBeUndefined();
  });

  it("never estimates less than ACI bills, and never more than the stated error above it", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 600_000 }), fc.boolean(),
      (acceptedMs, pullDelayMs, startDelayMs, runMs, withEvent) => {
        const accepted = Date.parse(t(0)) + acceptedMs;
        const pull = accepted + pullDelayMs; // the truth: billing starts here
        const started = pull + startDelayMs;
        const stopped = started + runMs;
        const event = withEvent ? new Date(Math.floor(pull / 1000) * 1000).toISOString() : undefined;
        const est = billingStart({ pullEvent: event, acceptedAt: new Date(accepted).toISOString(), startedAt: new Date(started).toISOString(), stoppedAt: new Date(stopped).toISOString() })!;
        const truth = billedSeconds(pull, stopped);
        const estimate = billedSeconds(est.startMs, stopped);
        expect(estimate).toBeGreaterThanOrEqual(truth);
        expect(estimate - truth).toBeLessThanOrEqual(est.errorSeconds + 1);
      },
    ));
  });
});

describe("polling", () => {
  const policy = { maxConcurrency: 40, armReadsPerSecond: 20, minPollSeconds: 1, maxPollSeconds: 15 };
  it("never polls a full pool faster than its ARM read share allows", () => {
    expect(readBudgetFloorSeconds(policy)).toBe(2);
    fc.assert(fc.property(fc.float({ min: 0, max: 1e5, noNaN: true }), fc.boolean(), (elapsed, prov) => {
      const d = pollDelaySeconds(policy, elapsed, prov);
      expect(d).toBeGreaterThanOrEqual(2);
      expect(d).toBeLessThanOrEqual(15);
    }));
  });

  it("bounds the polling of each subscription by the groups its placements can hold there", () => {
    const at = (subscriptionId: string, groups: number) => ({ subscriptionId, limits: { groups } });
    const spread = { ...policy, maxConcurrency: 1000, armReadsPerSecond: 25 };
    // Five subscriptions of two 100-group placements each: at most 200 live groups share one subscription's read bucket.
    const five = ["a", "b", "c", "d", "e"].flatMap((s) => [at(s, 100), at(s, 100)]);
    expect(readBudgetFloorSeconds({ ...spread, placements: five })).toBe(8);
    expect(readBudgetFloorSeconds({ ...spread, placements: [at("a", 100), at("b", 300)] })).toBe(12);
    // The pool's cap still bounds it when its placements could hold more.
    expect(readBudgetFloorSeconds({ ...policy, placements: [at("a", 100)] })).toBe(2);
    expect(readBudgetFloorSeconds(spread)).toBe(40);
  });

  it("polls more slowly as a job runs longer, and lands on the deadline", () => {
    const small = { ...policy, maxConcurrency: 1 };
    expect(pollDelaySeconds(small, 0, false)).toBe(1);
    expect(pollDelaySeconds(small, 300, false)).toBeGreaterThan(pollDelaySeconds(small, 30, false));
    expect(pollDelaySeconds(small, 300, false, 0.5)).toBe(0.5);
  });

  it("backs off while the image is pulled, up to 10 s, since pulls take seconds to minutes", () => {
    const small = { ...policy, maxConcurrency: 1 };
    expect(pollDelaySeconds(small, 0, true)).toBe(2);
    expect(pollDelaySeconds(small, 12, true)).toBe(6);
    expect(pollDelaySeconds(small, 600, true)).toBe(10);
  });

  it("reads the logs of a chatty job before ACI's after-stop window could overflow", () => {
    expect(logReadDelaySeconds(1000, 20_000, 10, 1)).toBeLessThan(5);
    expect(logReadDelaySeconds(0, 0, 10, 1)).toBe(30);
  });

  it("backs off retries exponentially with bounded jitter", () => {
    expect(retryBackoffSeconds(1, () => 0.5)).toBe(5);
    expect(retryBackoffSeconds(3, () => 0.5)).toBe(20);
    expect(retryBackoffSeconds(30, () => 0.5)).toBe(300);
  });
});

describe("log capture cursor", () => {
  const line = (ts: string, text: string) => `${ts} ${text}\n`;
  it("normalises timestamps so they compare in time order", () => {
    expect(normalizeTs("2026-01-01T00:00:00.5Z")).toBe("2026-01-01T00:00:00.500000000Z");
    expect(normalizeTs("2026-01-01T00:00:00Z")).toBe("2026-01-01T00:00:00.000000000Z");
    expect(normalizeTs("nonsense")).toBeUndefined();
  });

  it("takes only lines after the cursor, even among equal timestamps", () => {
    const t = "2026-01-01T00:00:01.000000000Z";
    const stored = parseTimestamped(line(t, "a") + line(t, "b"), false);
    const cursor = cursorAfter(stored);
    expect(cursor).toEqual({ ts: t, n: 2 });
    const window = parseTimestamped(line(t, "a") + line(t, "b") + line(t, "c") + line("2026-01-01T00:00:02Z", "d"), false);
    expect(newLinesSince(window, cursor).lines.map((l) => l.text)).toEqual(["c", "d"]);
    expect(newLinesSince(window, cursor).gap).toBe(false);
  });

  it("holds back a line still being written until the log is final", () => {
    const text = line("2026-01-01T00:00:01Z", "done") + "2026-01-01T00:00:02Z partial";
    expect(parseTimestamped(text, false).map((l) => l.text)).toEqual(["done"]);
    expect(parseTimestamped(text, true).map((l) => l.text)).toEqual(["done", "partial"]);
  });

  it("reports a gap when the window no longer reaches the cursor", () => {
    const cursor = { ts: normalizeTs("2026-01-01T00:00:01Z")!, n: 1 };
    const window = parseTimestamped(line("2026-01-01T00:00:05Z", "later"), false);
    expect(newLinesSince(window, cursor)).toEqual({ lines: [{ ts: normalizeTs("2026-01-01T00:00:05Z"), text: "later" }], gap: true });
  });

  it("stores every line exactly once however the log is sliced into windows", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 }), (steps, cuts) => {
      let t = 0;
      const all = steps.map((s, i) => ({ ts: normalizeTs(new Date(1_700_000_000_000 + (t += s)).toISOString())!, text: `line ${i}` }));
      const stored: typeof all = [];
      for (const end of [...cuts.map((c) => Math.min(c, all.length)).sort((a, b) => a - b), all.length]) {
        const window = all.slice(0, end);
        stored.push(...newLinesSince(window, cursorAfter(stored)).lines);
      }
      expect(stored.map((l) => l.text)).toEqual(all.map((l) => l.text));
    }), { numRuns: 300 });
  });
});

describe("the job state machine", () => {
  const base = { id: "j1", state: "Waiting", attempts: [] } as unknown as JobRecord;
  it("allows exactly the transitions in its table", () => {
    for (const from of JOB_STATES) for (const to of JOB_STATES) {
      expect(canTransition(from, to)).toBe(TRANSITIONS[from].includes(to));
      const job = { ...base, state: from };
      if (canTransition(from, to)) expect(transition(job, to, {}, now).job.state).toBe(to);
      else expect(() => transition(job, to, {}, now)).toThrow(IllegalTransition);
    }
  });

  it("has no way out of a final state but an array's retry --failed (its failed children wait again, the parent runs again)", () => {
    for (const s of ["Succeeded", "Canceled", "Rejected"] as const) expect(TRANSITIONS[s]).toEqual([]);
    expect(TRANSITIONS.Failed).toEqual(["Waiting", "Running"]);
    expect(TRANSITIONS.TimedOut).toEqual(["Waiting"]);
  });

  it("tells listeners only what is emitted while they listen", () => {
    const events = newJobEvents();
    const seen: string[] = [];
    const off = events.on((e) => seen.push(`${e.from}->${e.to}`));
    events.emit(transition(base, "Admitted", {}, now).event);
    off();
    events.emit(transition(base, "Canceled", {}, now).event);
    expect(seen).toEqual(["Waiting->Admitted"]);
  });

  it("has exactly the edges of the README's state table, and the table says so too", () => {
    // Written out by hand from the README, so the table in code is not tested against itself.
    const edges = [
      "New->Waiting", "New->Rejected",
      "Waiting->Admitted", "Waiting->Canceled", "Waiting->Running",
      "Admitted->Launching", "Admitted->Finishing",
      "Launching->Running", "Launching->Finishing",
      "Running->Finishing",
      "Finishing->Succeeded", "Finishing->Failed", "Finishing->TimedOut", "Finishing->Canceled", "Finishing->Waiting",
      "Failed->Waiting", "Failed->Running", "TimedOut->Waiting",
    ];
    expect(Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`)).sort()).toEqual([...edges].sort());
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("| state | meaning | next |")).split("\n\n")[0]!;
    const rows = [...table.matchAll(/^\| `(\w+)` \| [^|]+ \| ([A-Z][\w, ]+) \|$/gm)];
    const documented = rows.flatMap(([, from, next]) => next!.split(", ").map((to) => `${from}->${to}`));
    expect(documented.sort()).toEqual(edges.filter((e) => !e.startsWith("New->")).sort());
  });
});

describe("secure values", () => {
  const key = randomBytes(32);
  const ring = keyRing(key);
  it("round-trip only for the same job and key", () => {
    const sealed = seal({ TOKEN: "s3cret" }, ring, "job-a");
    expect(sealed).not.toContain("s3cret");
    expect(open(sealed, ring, "job-a")).toEqual({ TOKEN: "s3cret" });
    expect(() => open(sealed, ring, "job-b")).toThrow(SecureValuesUnopenable);
    expect(() => open(sealed, keyRing(randomBytes(32)), "job-a")).toThrow(SecureValuesUnopenable);
  });

  it("refuse to seal without a key", () => {
    expect(() => seal({ A: "b" }, EMPTY_RING, "x")).toThrow(SecretKeyMissing);
  });

  it("name their key by id, so a rotated-out key still opens what it sealed and a missing one is named", () => {
    const sealed = seal({ TOKEN: "s3cret" }, ring, "job-a");
    expect(sealed.split(".")[1]).toBe(keyId(key));
    expect(sealed).not.toContain(key.toString("base64"));
    const rotated = keyRing(randomBytes(32), [key]);
    expect(open(sealed, rotated, "job-a")).toEqual({ TOKEN: "s3cret" });
    // New values go under the new current key.
    expect(seal({ A: "b" }, rotated, "job-b").split(".")[1]).toBe(keyId(rotated.current!));
    expect(() => open(sealed, keyRing(randomBytes(32)), "job-a")).toThrow(`key ${keyId(key)} is not configured`);
  });

  it("still open values sealed before keys had ids, with whichever configured key sealed them", () => {
    // The v1 format, as earlier versions wrote it: v1.<iv>.<tag>.<body>.
    const v2 = seal({ OLD: "yes" }, ring, "job-v1").split(".");
    const v1 = ["v1", v2[2], v2[3], v2[4]].join(".");
    expect(open(v1, keyRing(randomBytes(32), [key]), "job-v1")).toEqual({ OLD: "yes" });
    expect(() => open(v1, keyRing(randomBytes(32)), "job-v1")).toThrow(SecureValuesUnopenable);
  });
});
