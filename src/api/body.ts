/**
 * Request bodies: the size limit, the accepted content types, and parsing JSON or YAML
 * into job spec values. Parse errors give a position, never a quote of the body: the
 * body may hold secure values, and V8's JSON messages echo the text around the error.
 */
import { parseAllDocuments } from "yaml";
import { ApiError, invalid, type ApiRequest } from "./http.js";

/** 1 MiB: far more than any job spec needs, small enough that a flood of them stays cheap. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Specs per POST /api/jobs; larger sets are sent in several requests (the CLI does). */
export const MAX_SPECS_PER_REQUEST = 100;

const JSON_TYPES = ["application/json"];
const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

export type BodyFormat = "json" | "yaml";

function formatOf(contentType: string | null): BodyFormat {
  const [type = "", ...params] = (contentType ?? "").split(";").map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith("charset="))?.slice("charset=".length).replace(/"/g, "");
  const accepted = [...JSON_TYPES, ...YAML_TYPES].join(", ");
  if (!type) throw new ApiError(415, "UnsupportedMediaType", `a Content-Type header is required: one of ${accepted}`);
  if (charset && charset !== "utf-8" && charset !== "utf8") throw new ApiError(415, "UnsupportedMediaType", `the body must be UTF-8 (got charset=${charset.slice(0, 32)})`);
  if (JSON_TYPES.includes(type)) return "json";
  if (YAML_TYPES.includes(type)) return "yaml";
  throw new ApiError(415, "UnsupportedMediaType", `Content-Type ${type.slice(0, 100)} is not accepted: use one of ${accepted}`);
}

async function readText(req: ApiRequest): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = Buffer.from(await req.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

function tooLarge(): ApiError {
  return new ApiError(413, "PayloadTooLarge", `the request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`);
}

function jsonError(err: unknown): string {
  const at = /position (\d+)/.exec((err as Error).message)?.[1];
  return at ? `must be valid JSON (error at position ${at})` : "must be valid JSON";
}

function yamlError(message: string): string {
  const at = /at line (\d+), column (\d+)/.exec(message);
  // The yaml library's first line names the problem; anything quoted is dropped in case it is body text.
  const what = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "").replace(/"[^"]*"|'[^']*'/g, "…").slice(0, 200);
  return `must be valid YAML: ${what}${at ? ` (line ${at[1]}, column ${at[2]})` : ""}`;
}

export interface ParsedBody {
  values: unknown[];
  /** True when the body held a list (a JSON array, a YAML sequence, or several YAML documents). */
  isList: boolean;
}

export function parseBodyText(text: string, format: BodyFormat): ParsedBody {
  if (text.trim() === "") throw invalid("InvalidSpec", [{ field: "(body)", rule: "must not be empty" }]);
  if (format === "json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw invalid("InvalidSpec", [{ field: "(body)", rule: jsonError(err) }]);
    }
    return Array.isArray(v) ? { values: v, isList: true } : { values: [v], isList: false };
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  let isList = list.length > 1;
  for (const d of list) {
    if (d.errors.length > 0) throw invalid("InvalidSpec", [{ field: "(body)", rule: yamlError(d.errors[0]!.message) }]);
    let v: unknown;
    try {
      v = d.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw invalid("InvalidSpec", [{ field: "(body)", rule: yamlError((err as Error).message) }]);
    }
    if (Array.isArray(v)) {
      values.push(...v);
      isList = true;
    } else if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) throw invalid("InvalidSpec", [{ field: "(body)", rule: "must hold a job spec" }]);
  return { values, isList };
}

/** Size, then type, then syntax: the cheapest refusal first. */
export async function readBody(req: ApiRequest): Promise<ParsedBody> {
  const text = await readText(req);
  return parseBodyText(text, formatOf(req.headers.get("content-type")));
}
