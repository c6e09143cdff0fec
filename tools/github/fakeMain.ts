#!/usr/bin/env node
/** Serves the fake GitHub REST API (fakeGitHub.ts) for a local run — see docs/github.md. */
import { parseArgs } from "node:util";
import { startFakeGitHub } from "./fakeGitHub.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "4290" }, token: { type: "string", default: "local-token" } } });
const fake = await startFakeGitHub({ port: Number(values.port), token: values.token });
// Only the method, path and status: the responses carry JIT configurations.
setInterval(() => {
  for (const r of fake.requests.splice(0)) console.log(`${r.method} ${r.path} → ${r.status}`);
}, 200).unref();
console.log(`fake GitHub API listening on ${fake.url} (token: ${values.token})`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
