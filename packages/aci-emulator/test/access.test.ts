/**
 * Who may call the emulator: its process runtime runs commands as the user, so with a
 * token only a caller holding it may, and only under a loopback Host name (a web page
 * reaching it through DNS rebinding carries its own name).
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAciClient } from "./client.js";
import { startEmulator, type RunningEmulator } from "../src/index.js";
import { FAST, group, POLL, RG, SUB } from "./helpers.js";

let emulator: RunningEmulator;
const TOKEN = "per-run-token-for-this-test";
beforeAll(async () => {
  emulator = await startEmulator({ runtime: "sim", timings: FAST, token: TOKEN });
});
afterAll(async () => { await emulator.close(); });

const url = () => `${emulator.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/g1?api-version=2023-05-01`;

describe("access to the emulator", () => {
  it("refuses ARM and admin calls without its token, or with another one, as ARM does", async () => {
    const none = await fetch(url(), { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ location: "eastus", properties: { osType: "Linux", containers: [{ name: "c", properties: { image: "alpine", command: ["id"], resources: { requests: { cpu: 1, memoryInGB: 1 } } } }] } }) });
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe("AuthenticationFailed");
    const wrong = await fetch(`${emulator.url}/_emulator/stats`, { headers: { authorization: "Bearer guess" } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe("InvalidAuthenticationToken");
    expect(emulator.stats().counts.creates).toBe(0);
  });

  it("serves Burst's client, which sends the token", async () => {
    const client = createAciClient({ subscriptionId: SUB, endpoint: emulator.url, emulatorToken: TOKEN });
    await client.containerGroups.beginCreateOrUpdateAndWait(RG, "g2", group({ command: ["/bin/sh", "-c", "sleep 1"] }), POLL);
    expect((await client.containerGroups.get(RG, "g2")).name).toBe("g2");
    const admin = await fetch(`${emulator.url}/_emulator/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(admin.status).toBe(200);
  });

  it("answers only loopback Host names, whatever the token", async () => {
    // fetch will not send a Host of our choosing; node's http will.
    const get = (host: string) => new Promise<{ status: number; body: any }>((resolve, reject) => {
      const u = new URL(emulator.url);
      http.get({ host: u.hostname, port: u.port, path: "/_emulator/stats", headers: { authorization: `Bearer ${TOKEN}`, host } }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      }).on("error", reject);
    });
    const r = await get("rebound.attacker.example");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("InvalidHost");
    expect((await get(`localhost:${new URL(emulator.url).port}`)).status).toBe(200);
  });
});
