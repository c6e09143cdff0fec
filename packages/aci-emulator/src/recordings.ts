/**
 * The live-service recordings the emulator is checked against (`recordings/`, whose README
 * gives each one's source), for anyone checking a client against what Azure really said.
 */
import { readFileSync } from "node:fs";

export interface RecordedInteraction {
  method: string;
  uri: string;
  status: number;
  headers: Record<string, string>;
  requestBody: any;
  responseBody: any;
}

export interface Recording {
  source: { repo: string; path: string; commit: string; recordedAt: string };
  interactions: RecordedInteraction[];
}

export function recording(file: string): Recording {
  return JSON.parse(readFileSync(new URL(`../recordings/${file}`, import.meta.url), "utf8")) as Recording;
}
