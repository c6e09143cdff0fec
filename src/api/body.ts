/**
 * Request bodies: the size limit, the accepted content types, and parsing JSON or YAML
 * into job spec values. Parse errors give a position, never a quote of the body: the
 * body may hold secure values, and V8's JSON messages echo the text around the error.
 */
import { parseSpecText } from "../jobSpec.js";
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

export interface ParsedBody {
  values: unknown[];
  /** True when the body held a list (a JSON array, a YAML sequence, or several YAML documents). */
  isList: boolean;
}

export function parseBodyText(text: string, format: BodyFormat): ParsedBody {
  const parsed = parseSpecText(text, format);
  if (!parsed.ok) throw invalid("InvalidSpec", parsed.errors.map((e) => ({ ...e, field: "(body)" })));
  return { values: parsed.values, isList: parsed.isList };
}

/** Size, then type, then syntax: the cheapest refusal first. */
export async function readBody(req: ApiRequest): Promise<ParsedBody> {
  const text = await readText(req);
  return parseBodyText(text, formatOf(req.headers.get("content-type")));
}
