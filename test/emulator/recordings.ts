/** Loads the live-service recordings in test/emulator/recordings/ (see its README for sources). */
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
  return JSON.parse(readFileSync(new URL(`./recordings/${file}`, import.meta.url), "utf8")) as Recording;
}
