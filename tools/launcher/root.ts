import { existsSync } from "node:fs";
import path from "node:path";

/** The project root: the nearest folder above this file with host.json — the same from src/ (tests) and dist/src/. */
export function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, "host.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no host.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot(import.meta.dirname);
