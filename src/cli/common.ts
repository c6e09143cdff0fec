/**
 * Options every command takes (--url, --key, -o), where their values come from (flag,
 * then BURST_URL / BURST_API_KEY, then the defaults `npm start` uses), and the parsers
 * that turn bad flag values into one-line errors.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { ApiClient, DEFAULT_KEY, DEFAULT_URL } from "./client.js";
import type { OutputFormat } from "./output.js";

export interface Context {
  client: ApiClient;
  output: OutputFormat;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option("--url <url>", `Burst API URL (env BURST_URL, default ${DEFAULT_URL})`)
    .option("--key <key>", "API key (env BURST_API_KEY, default the local key of npm start)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"));
}

export function contextOf(cmd: Command): Context {
  const o = cmd.opts<{ url?: string; key?: string; output: OutputFormat }>();
  const url = o.url || process.env.BURST_URL || DEFAULT_URL;
  const key = o.key || process.env.BURST_API_KEY || DEFAULT_KEY;
  // Messages name where the URL came from, so a stale BURST_URL is easy to spot.
  const source = o.url ? "--url" : process.env.BURST_URL ? "BURST_URL" : "the default URL";
  return { client: new ApiClient(url, key, source), output: o.output };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a number greater than 0.");
  return n;
}

export function integer(value: string): number {
  if (!/^-?\d{1,9}$/.test(value)) throw new InvalidArgumentError("must be a whole number (negative allowed).");
  return Number(value);
}

export function wholeNumber(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError("must be a whole number.");
  return Number(value);
}

/**
 * Repeatable NAME=VALUE flags collected into an object. A bare NAME takes the value
 * from this environment, as docker's -e does, which keeps secrets out of shell history.
 */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq === 0) throw new InvalidArgumentError("must be NAME=VALUE or NAME.");
  if (eq < 0) {
    const fromEnv = process.env[value];
    if (fromEnv === undefined) throw new InvalidArgumentError(`has no value and ${value} is not set in this environment.`);
    return { ...previous, [value]: fromEnv };
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function port(value: string, previous: number[] = []): number[] {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError("must be a TCP port (1-65535).");
  return [...previous, n];
}
