/**
 * Wire-shape checks for the conformance tests:
 * - shapeProblems: every field of a reference example is present in our response with
 *   the same JSON type and nesting (values may differ: ids, times, IPs are per instance);
 * - specProblems: every field we send is declared in the OpenAPI description, with the
 *   declared type.
 */
import { readFileSync } from "node:fs";

type Json = unknown;
type Schema = Record<string, any>;

export const reference = (file: string): any =>
  JSON.parse(readFileSync(new URL(`../reference/examples/${file}`, import.meta.url), "utf8"));

const spec = JSON.parse(readFileSync(new URL("../reference/containerInstance.2023-05-01.json", import.meta.url), "utf8")) as {
  definitions: Record<string, Schema>;
};

function kind(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Paths use `[]` for any array index, e.g. properties.containers[].name */
export function shapeProblems(expected: Json, actual: Json, allowMissing: string[] = [], path = ""): string[] {
  const here = path || "$";
  if (kind(expected) !== kind(actual)) return [`${here}: expected ${kind(expected)}, got ${kind(actual)}`];
  if (Array.isArray(expected)) {
    const a = actual as Json[];
    if (expected.length > 0 && a.length === 0) return allowMissing.includes(`${path}[]`) ? [] : [`${here}: expected items, got an empty array`];
    if (expected.length === 0) return [];
    // Same length: item by item (volumes differ in kind); otherwise every item like the first.
    return a.flatMap((item, i) => shapeProblems(expected.length === a.length ? expected[i] : expected[0], item, allowMissing, `${path}[]`));
  }
  if (kind(expected) === "object") {
    const a = actual as Record<string, Json>;
    return Object.entries(expected as Record<string, Json>).flatMap(([k, v]) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) return allowMissing.includes(p) ? [] : [`${p}: missing`];
      return shapeProblems(v, a[k], allowMissing, p);
    });
  }
  return [];
}

function resolve(schema: Schema): Schema {
  if (schema.$ref) {
    const name = String(schema.$ref).split("/").pop()!;
    if (name === "ContainerGroup") return containerGroupSchema();
    return resolve({ ...spec.definitions[name]!, ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$ref")) });
  }
  if (schema.allOf) {
    const parts = (schema.allOf as Schema[]).map(resolve);
    return { ...schema, allOf: undefined, properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), schema.properties ?? {}) };
  }
  return schema;
}

// The TypeSpec-generated description lost ContainerGroup's own fields (its allOf only
// names Resource); the wire format is Resource + ContainerGroupProperties.
function containerGroupSchema(): Schema {
  return {
    type: "object",
    properties: { ...spec.definitions.Resource!.properties, ...spec.definitions.ContainerGroupProperties!.properties },
  };
}

/**
 * Fields the live service sends at 2023-05-01 that its API description lacks (azure-cli
 * test_container_create_regular_priority and azure-sdk-for-net CreateOrUpdate_RegularPriority
 * recordings): the emulator sends them too, and the spec check lets them pass.
 */
export const LIVE_ONLY_FIELDS = ["properties.provisioningTimeoutInSeconds", "properties.isCustomProvisioningTimeout"];

export function specProblems(value: Json, definition: string, path = "$"): string[] {
  const liveOnly = (p: string) => LIVE_ONLY_FIELDS.some((f) => p.endsWith(`.${f}: not in the API description`));
  return check(value, resolve({ $ref: `#/definitions/${definition}` }), path).filter((p) => !liveOnly(p));
}

function check(value: Json, schema: Schema, path: string): string[] {
  schema = resolve(schema);
  const k = kind(value);
  if (schema.properties || schema.type === "object") {
    if (k !== "object") return [`${path}: expected object, got ${k}`];
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    return Object.entries(value as Record<string, Json>).flatMap(([key, v]) => {
      if (props[key]) return check(v, props[key]!, `${path}.${key}`);
      if (schema.additionalProperties) return typeof schema.additionalProperties === "object" ? check(v, schema.additionalProperties, `${path}.${key}`) : [];
      return [`${path}.${key}: not in the API description`];
    });
  }
  switch (schema.type) {
    case "array":
      return k === "array" ? (value as Json[]).flatMap((item, i) => check(item, schema.items ?? {}, `${path}[${i}]`)) : [`${path}: expected array, got ${k}`];
    case "string":
      return k === "string" ? [] : [`${path}: expected string, got ${k}`];
    case "integer":
      return Number.isInteger(value) ? [] : [`${path}: expected integer, got ${JSON.stringify(value)}`];
    case "number":
      return k === "number" ? [] : [`${path}: expected number, got ${k}`];
    case "boolean":
      return k === "boolean" ? [] : [`${path}: expected boolean, got ${k}`];
    default:
      return [];
  }
}

/** ARM wire body (example request) → the SDK's flattened model, which the SDK serialises back. */
export function fromWire(wire: any): any {
  const { properties, ...rest } = structuredClone(wire);
  const flat = (c: any) => ({ name: c.name, ...c.properties });
  return {
    ...rest,
    ...properties,
    containers: properties.containers.map(flat),
    ...(properties.initContainers ? { initContainers: properties.initContainers.map(flat) } : {}),
  };
}
