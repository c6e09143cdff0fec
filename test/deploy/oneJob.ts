/**
 * Submits one job to a host's HTTP API and waits for its end: how the deploy tests show a
 * setup really runs jobs (the package unzipped alone, the identity-only storage).
 */
import { expect } from "vitest";
import type { HostProcess } from "../support/hostProcess.js";
import { waitUntil } from "../support/wait.js";

export async function runOneJob(host: HostProcess, script: string): Promise<{ state: string; logs: string }> {
  const api = (p: string, init?: RequestInit) =>
    fetch(`${host.url}/api${p}`, { ...init, headers: { "x-functions-key": "burst-local-key", "content-type": "application/json" } });
  const submitted = await api("/jobs", {
    method: "POST",
    body: JSON.stringify({ image: "alpine", command: ["sh", "-c", script], timeoutSeconds: 60 }),
  });
  expect(submitted.status, await submitted.clone().text()).toBe(202);
  const { id } = (await submitted.json()) as { id: string };
  const job = await waitUntil(async () => (await (await api(`/jobs/${id}`)).json()) as { state: string }, {
    what: `job ${id} to finish (host output: ${host.output().slice(-1500)})`,
    until: (j) => ["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"].includes(j.state),
    timeoutMs: 60_000,
  });
  return { state: job.state, logs: await (await api(`/jobs/${id}/logs`)).text() };
}
