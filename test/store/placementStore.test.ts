/**
 * The placement store against real Table storage (Azurite): room in a subscription and
 * region is never over-reserved by writers racing on the same row, and a placement's
 * breaker opens on a refusal, is skipped while it cools, and closes on a probe that works.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it, vi } from "vitest";
import { TablePlacementStore } from "../../src/store/placementStore.js";
import { tableClient } from "../../src/store/tables.js";
import type { Placement } from "../../src/placements.js";

const store = () => new TablePlacementStore(tableClient(inject("storageConnectionString"), `placements${randomBytes(6).toString("hex")}`));
const prices = { vcpuSecondUsd: 0.00001, gbSecondUsd: 0.000001, source: "test", date: "2026" };
const placement = (id: string, limits: Partial<Placement["limits"]> = {}): Placement => ({
  id: `11111111-1111-1111-1111-111111111111/${id}/eastus/Regular`,
  subscriptionId: "11111111-1111-1111-1111-111111111111",
  resourceGroup: id,
  region: "eastus",
  priority: "Regular",
  prices,
  limits: { groups: 4, cores: 100, createsPer5Min: 100, createsPerHour: 300, ...limits },
});

describe("the placement store", () => {
  it("never reserves more groups than the limit when many writers race for the same subscription and region", async () => {
    const s = store();
    const [a, b] = [placement("rg-a"), placement("rg-b")];
    const now = new Date();
    const got = await Promise.all(Array.from({ length: 12 }, (_, i) => s.reserve([a], `j${i}#1`, 1, now)));
    expect(got.filter((r) => r.ok)).toHaveLength(4);
    // Another pool's placement in the same subscription and region sees the same room in use.
    expect(await s.status(b, now)).toMatchObject({ groups: { inUse: 4, limit: 4 }, createsLeft: { per5Min: 96, perHour: 296 } });
    expect(await s.reserve([b], "other#1", 1, now)).toMatchObject({ ok: false, verdicts: [{ verdict: { why: "groups" } }] });
    // Asking again for an attempt that holds room keeps it, and counts no second create.
    const holder = got.findIndex((r) => r.ok);
    expect(await s.reserve([a], `j${holder}#1`, 1, now)).toMatchObject({ ok: true });
    expect((await s.status(a, now)).createsLeft.per5Min).toBe(96);
    await s.release(a, `j${holder}#1`);
    await s.release(a, `j${holder}#1`);
    expect((await s.status(a, now)).groups.inUse).toBe(3);
    // A create ACI refused outright gives its place in the windows back too; a released one does not.
    expect((await s.status(a, now)).createsLeft.per5Min).toBe(96);
    const refused = got.findIndex((r, i) => r.ok && i !== holder);
    await s.release(a, `j${refused}#1`, { createRefused: true });
    expect(await s.status(a, now)).toMatchObject({ groups: { inUse: 2 }, createsLeft: { per5Min: 97, perHour: 297 } });
  });

  it("takes a burst of 400 reservations from two instances at once in its stride, and grants exactly the limit", async () => {
    const table = `placements${randomBytes(6).toString("hex")}`;
    const instances = [0, 1].map(() => new TablePlacementStore(tableClient(inject("storageConnectionString"), table)));
    const p = placement("rg-burst", { groups: 1000, cores: 1000, createsPer5Min: 300, createsPerHour: 900 });
    const now = new Date();
    // Without coalescing, each reservation is its own read-modify-write of one row, and most of 200 concurrent ones give up after 30 lost races.
    const got = await Promise.all(Array.from({ length: 400 }, (_, i) => instances[i % 2]!.reserve([p], `j${i}#1`, 1, now)));
    expect(got.filter((r) => r.ok)).toHaveLength(300);
    expect(got.find((r) => !r.ok)).toMatchObject({
      verdicts: [{ verdict: { why: "creates", detail: "300 of 300 creates in the last 5 minutes" } }],
    });
    expect(await instances[0]!.status(p, now)).toMatchObject({ groups: { inUse: 300 }, createsLeft: { per5Min: 0, perHour: 600 } });
  });

  it("changes a row it wrote last without reading it again, and notices another instance's write by its ETag", async () => {
    const table = tableClient(inject("storageConnectionString"), `placements${randomBytes(6).toString("hex")}`);
    const [mine, theirs] = [new TablePlacementStore(table), new TablePlacementStore(table)];
    const p = placement("rg-known", { groups: 2 });
    const now = new Date();
    const reads = vi.spyOn(table, "getEntity");
    expect(await mine.reserve([p], "a#1", 1, now)).toMatchObject({ ok: true });
    const afterFirst = reads.mock.calls.length;
    await mine.reserveDelete(p, "a#1", now);
    await mine.release(p, "a#1", { deletedAt: now });
    expect(await mine.reserve([p], "b#1", 1, now)).toMatchObject({ ok: true });
    // Three changes after the first, none of them a read: each started from the version this instance wrote.
    expect(reads.mock.calls.length).toBe(afterFirst);
    // Another instance fills the placement; this one's stale "room for one more" is refused by the ETag and decided again.
    expect(await theirs.reserve([p], "c#1", 1, now)).toMatchObject({ ok: true });
    expect(await mine.reserve([p], "d#1", 1, now)).toMatchObject({ ok: false, verdicts: [{ verdict: { why: "groups" } }] });
    // And a stale "no room" is decided again on a fresh read: the other instance's release is seen.
    await theirs.release(p, "c#1");
    expect(await mine.reserve([p], "d#1", 1, now)).toMatchObject({ ok: true });
    expect(await mine.status(p, now)).toMatchObject({ groups: { inUse: 2, limit: 2 } });
    reads.mockRestore();
  });

  it("counts each group's delete once against the placement's windows, apart from creates, and says when the next may go", async () => {
    const s = store();
    const p = placement("rg-deletes", { createsPer5Min: 2 });
    const now = new Date("2026-12-02T10:00:00Z");
    for (const [key, at] of [
      ["a#1", "09:40"],
      ["b#1", "09:40"],
      ["c#1", "09:55"],
    ] as const) {
      expect(await s.reserve([p], key, 1, new Date(`2026-12-02T${at}:00Z`))).toMatchObject({ ok: true });
    }
    expect((await s.reserveDelete(p, "a#1", now)).ok).toBe(true);
    // The same group's delete again (a repeated finish step): not counted twice.
    expect((await s.reserveDelete(p, "a#1", now)).ok).toBe(true);
    expect((await s.reserveDelete(p, "b#1", now)).ok).toBe(true);
    expect(await s.reserveDelete(p, "c#1", now)).toMatchObject({ ok: false, why: "deletes", retryAt: Date.parse("2026-12-02T10:05:02Z") });
    // A group whose room went back is gone already: nothing to count.
    await s.release(p, "a#1");
    expect((await s.reserveDelete(p, "a#1", now)).ok).toBe(true);
    expect((await s.reserveDelete(p, "c#1", new Date("2026-12-02T10:05:02Z"))).ok).toBe(true);
  });

  it("counts a delete from when it was done, since ARM's pacing may hold it back after it was counted", async () => {
    const s = store();
    const p = placement("rg-late-delete", { createsPer5Min: 1 });
    await s.reserve([p], "x#1", 1, new Date("2026-12-02T09:40:00Z"));
    await s.reserve([p], "y#1", 1, new Date("2026-12-02T09:50:00Z"));
    expect((await s.reserveDelete(p, "x#1", new Date("2026-12-02T10:00:00Z"))).ok).toBe(true);
    await s.release(p, "x#1", { deletedAt: new Date("2026-12-02T10:00:20Z") });
    // Counted from 10:00:00 it would have left the window by 10:05:03; counted from 10:00:20, not before 10:05:22.
    expect(await s.reserveDelete(p, "y#1", new Date("2026-12-02T10:05:03Z"))).toMatchObject({
      ok: false,
      retryAt: Date.parse("2026-12-02T10:05:22Z"),
    });
    expect((await s.reserveDelete(p, "y#1", new Date("2026-12-02T10:05:22Z"))).ok).toBe(true);
  });

  it("skips a placement while its breaker cools, moves to the next, and closes the breaker when a probe's create goes through", async () => {
    const s = store();
    const [first, second] = [
      placement("rg-1"),
      {
        ...placement("rg-2"),
        subscriptionId: "22222222-2222-2222-2222-222222222222",
        id: "22222222-2222-2222-2222-222222222222/rg-2/eastus/Regular",
      },
    ];
    const t0 = new Date("2026-12-02T10:00:00Z");
    const breaker = await s.refused(first, "capacity (ServiceUnavailable)", t0);
    expect(breaker).toMatchObject({ failures: 1, until: "2026-12-02T10:00:30.000Z" });
    // A refusal of a create sent before the breaker opened does not lengthen it.
    expect(await s.refused(first, "capacity (ServiceUnavailable)", t0)).toEqual(breaker);
    expect(await s.reserve([first, second], "j#1", 1, t0)).toMatchObject({ ok: true, placement: { id: second.id }, probing: false });
    const later = new Date("2026-12-02T10:00:31Z");
    expect(await s.reserve([first, second], "k#1", 1, later)).toMatchObject({ ok: true, placement: { id: first.id }, probing: true });
    await s.accepted(first);
    expect((await s.status(first, later)).cooldown).toBeNull();
    expect(await s.refused(first, "capacity", later)).toMatchObject({ failures: 1 });
  });

  it("lets one launch at a time probe a placement whose cooldown is over, and cools it down again when the probe is refused", async () => {
    const s = store();
    const first = placement("rg-probe");
    const second = {
      ...placement("rg-other", { groups: 100 }),
      subscriptionId: "33333333-3333-3333-3333-333333333333",
      id: "33333333-3333-3333-3333-333333333333/rg-other/eastus/Regular",
    };
    const t0 = new Date("2026-12-02T10:00:00Z");
    await s.refused(first, "capacity", t0);
    const after = new Date("2026-12-02T10:00:31Z");
    // Ten launches at once once the cooldown is over: one probes, nine go elsewhere.
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => s.reserve([first, second], `p${i}#1`, 1, after)));
    expect(got.filter((r) => r.ok && r.placement.id === first.id)).toHaveLength(1);
    expect(got.filter((r) => r.ok && r.placement.id === second.id)).toHaveLength(9);
    // The probe is refused: a second failure, a doubled cooldown, and no probe out any more.
    expect(await s.refused(first, "capacity", after)).toMatchObject({ failures: 2, until: "2026-12-02T10:01:31.000Z" });
    expect((await s.reserve([first], "q#1", 1, new Date("2026-12-02T10:01:00Z"))).ok).toBe(false);
    // A probe whose launcher never answers is overdue after PROBE_SECONDS, and another may go.
    await s.refused(first, "capacity", t0);
    const probe = await s.reserve([first], "r#1", 1, new Date("2026-12-02T10:01:32Z"));
    expect(probe).toMatchObject({ ok: true, probing: true });
    expect((await s.reserve([first], "t#1", 1, new Date("2026-12-02T10:02:00Z"))).ok).toBe(false);
    expect(await s.reserve([first], "u#1", 1, new Date("2026-12-02T10:02:33Z"))).toMatchObject({ ok: true, probing: true });
  });
});
