/**
 * Compares what a command printed with the output its doc shows. Ids, times, addresses and
 * money differ from run to run, so it compares structure:
 * - JSON: the same top-level keys (for a list, the same length and the first item's keys);
 * - tables (a header of capitalised columns): the same header, and rows when the doc shows rows;
 * - `key: value` lines (three or more in a row): the same keys, in order;
 * - a quoted line (`"Welcome…"`): the output contains the text;
 * - any other line: the output has a line of the same shape, where job ids, uuids, times,
 *   IP addresses, local ports and dollar amounts may differ.
 * Problems come back as sentences; none means the output matches.
 */

/** A line with the values that differ per run replaced by what they are. */
export function shape(line: string): string {
  return line
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "‹uuid›")
    .replace(/\b[jk][0-9a-z]{18}\b/g, "‹job›")
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "‹time›")
    .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, "‹ip›")
    .replace(/(‹ip›|localhost):\d+/g, "$1:‹port›")
    .replace(/-?\$\d+(\.\d+)?/g, "‹usd›")
    .replace(/\s+/g, " ")
    .trim();
}

const cells = (line: string) => line.trim().split(/\s{2,}/);
const HEADER_CELL = /^[A-Z][A-Z0-9]*( [A-Z][A-Z0-9]*)*( \([^)]*\))?$/;
export const isTableHeader = (line: string) => cells(line).length >= 2 && cells(line).every((c) => HEADER_CELL.test(c));
const KEY_VALUE = /^([a-z][a-z ]*):\s+\S/;
/** `id:        j…`, not the CLI's `burst: …` messages. */
const isField = (line: string) => KEY_VALUE.test(line) && !line.startsWith("burst: ");

/** Parses documented JSON, where `…` may stand for a value or for more items. */
export function documentedJson(text: string): unknown {
  const cleaned = text.trim().replace(/^\d{3}\s+/, "").replace(/,\s*…\s*(?=[\]}])/g, "").replace(/(?<!")…(?!")/g, "null");
  return JSON.parse(cleaned);
}

function keysOf(v: unknown): string[] | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v).sort() : undefined;
}

function compareJson(documented: unknown, actualText: string): string[] {
  let actual: unknown;
  try {
    actual = JSON.parse(actualText);
  } catch {
    return [`the doc shows JSON, but the output is not JSON: ${JSON.stringify(actualText.slice(0, 300))}`];
  }
  if (Array.isArray(documented)) {
    if (!Array.isArray(actual)) return [`the doc shows a list, the output is ${JSON.stringify(actual).slice(0, 200)}`];
    const problems: string[] = [];
    if (actual.length !== documented.length) problems.push(`the doc shows ${documented.length} items, the output has ${actual.length}`);
    const [d, a] = [keysOf(documented[0]), keysOf(actual[0])];
    if (d && JSON.stringify(d) !== JSON.stringify(a)) problems.push(`the doc's items have keys ${d.join(", ")}; the output's ${a?.join(", ")}`);
    return problems;
  }
  const [d, a] = [keysOf(documented), keysOf(actual)];
  if (JSON.stringify(d) !== JSON.stringify(a)) return [`the doc shows keys ${d?.join(", ")}; the output has ${a?.join(", ") ?? JSON.stringify(actual).slice(0, 200)}`];
  return [];
}

/** Problems with `actual` (stdout, or stdout and stderr as a terminal shows them) against the documented lines. */
export function compareOutput(documentedLines: string[], actual: string, stdout = actual): string[] {
  const text = documentedLines.join("\n").trim();
  if (text === "") return [];
  if (/^(\d{3}\s+)?[[{]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = documentedJson(text);
    } catch (err) {
      return [`the doc's JSON does not parse: ${(err as Error).message}`];
    }
    return compareJson(parsed, stdout.trim());
  }
  const problems: string[] = [];
  const doc = documentedLines.map((l) => l.trimEnd());
  const lines = actual.split("\n").filter((l) => l.trim() !== "");
  const unused = lines.map(shape);
  for (let i = 0; i < doc.length; i++) {
    const line = doc[i]!;
    if (line.trim() === "") continue;
    if (isTableHeader(line)) {
      // Its rows run to the next blank line.
      let rows = 0;
      while (i + 1 < doc.length && doc[i + 1]!.trim() !== "") { rows++; i++; }
      const want = cells(line).join(" | ");
      const at = lines.findIndex((l) => isTableHeader(l) && cells(l).join(" | ") === want);
      if (at < 0) problems.push(`no table with the header ${want}; the output's headers: ${lines.filter(isTableHeader).map((l) => cells(l).join(" | ")).join(" / ") || "none"}`);
      else if (rows > 0 && !(lines[at + 1] && !isTableHeader(lines[at + 1]!))) problems.push(`the table ${want} has no rows; the doc shows ${rows}`);
      continue;
    }
    if (doc.slice(i, i + 3).every(isField)) {
      const keys: string[] = [];
      for (; i < doc.length && isField(doc[i]!); i++) keys.push(KEY_VALUE.exec(doc[i]!)![1]!);
      i--;
      const got = lines.filter(isField).map((l) => KEY_VALUE.exec(l)![1]!);
      if (got.join(", ") !== keys.join(", ")) problems.push(`the doc shows the fields ${keys.join(", ")}; the output has ${got.join(", ") || "none"}`);
      continue;
    }
    const quoted = /^"(.*)"$/.exec(line.trim());
    if (quoted) {
      if (!actual.includes(quoted[1]!)) problems.push(`the output does not contain ${JSON.stringify(quoted[1])}`);
      continue;
    }
    const at = unused.indexOf(shape(line));
    if (at < 0) problems.push(`no line like ${JSON.stringify(line.trim())} (as ${JSON.stringify(shape(line))})`);
    else unused[at] = "";
  }
  return problems;
}
