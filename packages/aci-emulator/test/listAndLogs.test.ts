import type { FullOperationResponse } from "@azure/core-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { group, POLL, RG, startTestEmulator, until, waitForState, type TestEmulator } from "./helpers.js";

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator({ runtime: "sim", limits: { listPageSize: 2 } });
});
beforeEach(async () => {
  await t.emulator.reset();
});
afterAll(async () => {
  await t.emulator.close();
});

const sh = (script: string) => ["/bin/sh", "-c", script];
const logs = async (name: string, options: { tail?: number; timestamps?: boolean } = {}) =>
  (await t.client.containers.listLogs(RG, name, "main", options)).content ?? "";
const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join("");

describe("listing container groups", () => {
  it("pages with nextLink and leaves out the instance views", async () => {
    for (const name of ["a", "b", "c", "d", "e"]) await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, name, group({ command: sh("sleep 60") }), POLL);
    await t.client.containerGroups.beginCreateOrUpdateAndWait("elsewhere", "f", group({ command: sh("sleep 60") }), POLL);

    const pages: any[] = [];
    const onResponse = (r: FullOperationResponse) => void pages.push(JSON.parse(r.bodyAsText!));
    const names: string[] = [];
    for await (const g of t.client.containerGroups.listByResourceGroup(RG, { onResponse })) names.push(g.name!);
    expect(names).toEqual(["a", "b", "c", "d", "e"]);
    expect(pages.map((p) => p.value.length)).toEqual([2, 2, 1]);
    expect(pages[0].nextLink).toMatch(/\/resourceGroups\/burst-test\/providers\/Microsoft\.ContainerInstance\/containerGroups\?api-version=2023-05-01&\$skipToken=/);
    expect(pages[2].nextLink).toBeUndefined();
    for (const page of pages) for (const g of page.value) expect(g.properties.instanceView).toBeUndefined();

    const all: string[] = [];
    for await (const g of t.client.containerGroups.list()) all.push(g.name!);
    expect(all.sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(t.emulator.stats().counts.lists).toBe(3 + 3);
  });

  it("keeps paging correctly when a listed group is deleted between pages", async () => {
    for (const name of ["a", "b", "c", "d"]) await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, name, group({ command: sh("sleep 60") }), POLL);
    const pager = t.client.containerGroups.listByResourceGroup(RG).byPage();
    const first = (await pager.next()).value as { name: string }[];
    await t.client.containerGroups.beginDeleteAndWait(RG, "b");
    const rest: string[] = [];
    for await (const page of pager) rest.push(...page.map((g) => g.name!));
    expect([...first.map((g) => g.name), ...rest]).toEqual(["a", "b", "c", "d"]);
  });
});

describe("container logs", () => {
  it("returns everything while the group runs and only the last 1,000 lines after it stopped", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "big", group({ command: sh("seq 1 5000; sleep 60") }), POLL);
    await until(async () => (await logs("big")).endsWith("5000\n"));
    expect(await logs("big")).toBe(numbered(1, 5000));
    await t.client.containerGroups.stop(RG, "big");
    expect(await logs("big")).toBe(numbered(4001, 5000));
  });

  it("cuts the log of a group whose containers all terminated to the last 1,000 lines", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "done", group({ command: sh("seq 1 5000") }), POLL);
    await waitForState(t.client, "done", ["Succeeded"]);
    const content = await logs("done");
    expect(content.split("\n").filter(Boolean)).toHaveLength(1000);
    expect(content).toBe(numbered(4001, 5000));
  });

  it("cuts to the last 16 KB of whole lines when that is less than 1,000 lines", async () => {
    const line = "x".repeat(99); // 100 bytes with its newline
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "wide", group({ command: sh(`for i in $(seq 1 500); do echo ${line}; done`) }), POLL);
    await waitForState(t.client, "wide", ["Succeeded"]);
    const content = await logs("wide");
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(16 * 1024);
    expect(content.split("\n").filter(Boolean)).toHaveLength(163);
  });

  it("prefixes lines with strictly increasing RFC 3339 nanosecond timestamps that work as a cursor", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "ts", group({ command: sh("seq 1 50; sleep 0.05; seq 51 60") }), POLL);
    await waitForState(t.client, "ts", ["Succeeded"]);
    const lines = (await logs("ts", { timestamps: true })).split("\n").filter(Boolean);
    expect(lines).toHaveLength(60);
    const stamps = lines.map((l) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (\d+)$/.exec(l);
      expect(m, l).not.toBeNull();
      return m![1]!;
    });
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    // A client that saw line 30 can ask again and keep only newer lines.
    const cursor = stamps[29]!;
    const newer = (await logs("ts", { timestamps: true })).split("\n").filter((l) => l && l.slice(0, 30) > cursor);
    expect(newer.map((l) => l.slice(31))).toEqual(Array.from({ length: 30 }, (_, i) => String(31 + i)));
  });

  it("honours tail", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "tail", group({ command: sh("seq 1 10") }), POLL);
    await waitForState(t.client, "tail", ["Succeeded"]);
    expect(await logs("tail", { tail: 3 })).toBe("8\n9\n10\n");
    expect(await logs("tail", { tail: 0 })).toBe("");
  });

  it("answers 404 for a container the group does not have", async () => {
    await t.client.containerGroups.beginCreateOrUpdateAndWait(RG, "one", group({ command: sh("true") }), POLL);
    await expect(t.client.containers.listLogs(RG, "one", "nope")).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    expect(t.emulator.stats().counts.logReads).toBe(1);
  });
});
