/**
 * The body of a container group PUT: validated (400 InvalidRequestContent with the path
 * and reason), enums normalised the way ARM does ("public" → "Public"), and reduced to
 * the few facts the lifecycle needs. The validated body itself is kept to echo back.
 */
import { z } from "zod";
import { errors } from "./errors.js";
import { normalizeRegion } from "./config.js";

function ciEnum<T extends string>(values: readonly T[]) {
  return z.string().transform((s, ctx): T => {
    const hit = values.find((v) => v.toLowerCase() === s.toLowerCase());
    if (hit === undefined) {
      ctx.addIssue({ code: "custom", message: `must be one of ${values.map((v) => `'${v}'`).join(", ")} (got '${s}')` });
      return z.NEVER;
    }
    return hit;
  });
}

const envVar = z.looseObject({ name: z.string().min(1), value: z.string().optional(), secureValue: z.string().optional() });
const gpu = z.looseObject({ count: z.number().int().positive(), sku: z.string() });
const containerPort = z.looseObject({ port: z.number().int().min(1).max(65535), protocol: ciEnum(["TCP", "UDP"]).optional() });
const groupPort = z.looseObject({ port: z.number().int().min(1).max(65535), protocol: ciEnum(["TCP", "UDP"]).optional() });

const container = z.looseObject({
  name: z.string().min(1),
  properties: z.looseObject({
    image: z.string().min(1),
    command: z.array(z.string()).optional(),
    ports: z.array(containerPort).optional(),
    environmentVariables: z.array(envVar).optional(),
    resources: z.looseObject({
      requests: z.looseObject({ cpu: z.number().positive(), memoryInGB: z.number().positive(), gpu: gpu.optional() }),
      limits: z.looseObject({ cpu: z.number().positive().optional(), memoryInGB: z.number().positive().optional(), gpu: gpu.optional() }).optional(),
    }),
  }),
});

const initContainer = z.looseObject({
  name: z.string().min(1),
  properties: z.looseObject({
    image: z.string().min(1).optional(),
    command: z.array(z.string()).optional(),
    environmentVariables: z.array(envVar).optional(),
  }),
});

export const containerGroupBody = z.looseObject({
  location: z.string().min(1, "the location property is required"),
  tags: z.record(z.string(), z.string()).optional(),
  zones: z.array(z.string()).optional(),
  identity: z.looseObject({ type: ciEnum(["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"]) }).optional(),
  properties: z.looseObject({
    containers: z.array(container).min(1, "at least one container is required"),
    osType: ciEnum(["Linux", "Windows"]),
    restartPolicy: ciEnum(["Always", "OnFailure", "Never"]).optional(),
    priority: ciEnum(["Regular", "Spot"]).optional(),
    sku: ciEnum(["Standard", "Dedicated", "Confidential"]).optional(),
    ipAddress: z
      .looseObject({
        type: ciEnum(["Public", "Private"]),
        ports: z.array(groupPort).min(1, "an IP address needs at least one port"),
        dnsNameLabel: z.string().min(1).optional(),
      })
      .optional(),
    initContainers: z.array(initContainer).optional(),
    imageRegistryCredentials: z.array(z.looseObject({ server: z.string() })).optional(),
  }),
});

export type ContainerGroupBody = z.output<typeof containerGroupBody>;
export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface ContainerSpec {
  name: string;
  image: string;
  /** Undefined when the body has no command (or an empty one): the image decides. */
  command?: string[];
  env: { name: string; value?: string; secureValue?: string }[];
  ports: number[];
  cpu: number;
  memoryInGB: number;
  gpu: boolean;
}

export interface GroupSpec {
  body: ContainerGroupBody;
  location: string;
  region: string;
  tags?: Record<string, string>;
  restartPolicy: RestartPolicy;
  priority: "Regular" | "Spot";
  osType: "Linux" | "Windows";
  containers: ContainerSpec[];
  /** Run before the containers, each to completion; they request no resources of their own here. */
  initContainers: ContainerSpec[];
  ipAddress?: { type: "Public" | "Private"; ports: { port: number; protocol: "TCP" | "UDP" }[]; dnsNameLabel?: string };
  cpu: number;
  memoryInGB: number;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function validateGroupName(name: string): void {
  if (!NAME.test(name)) throw errors.invalidName(name);
}

export function parseGroupBody(raw: unknown, groupName: string): GroupSpec {
  const result = containerGroupBody.safeParse(raw, { error: (issue) => (issue.input === undefined ? "is required" : undefined) });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length ? issue.path.join(".") : "(body)";
    throw errors.invalidContent(`${path}: ${issue.message}`);
  }
  const body = stripReadOnly(result.data);
  const p = body.properties;
  const seen = new Set<string>();
  for (const c of p.containers) {
    if (!NAME.test(c.name)) throw errors.invalidContent(`container name '${c.name}' must be 1 to 63 lowercase letters, digits and '-'`);
    if (seen.has(c.name)) throw errors.invalidContent(`container name '${c.name}' is used twice in container group '${groupName}'`);
    seen.add(c.name);
  }
  const containers: ContainerSpec[] = p.containers.map((c) => ({
    name: c.name,
    image: c.properties.image,
    command: c.properties.command && c.properties.command.length > 0 ? c.properties.command : undefined,
    env: (c.properties.environmentVariables ?? []).map((e) => ({ name: e.name, value: e.value, secureValue: e.secureValue })),
    ports: (c.properties.ports ?? []).map((port) => port.port),
    cpu: c.properties.resources.requests.cpu,
    memoryInGB: c.properties.resources.requests.memoryInGB,
    gpu: c.properties.resources.requests.gpu !== undefined,
  }));
  for (const c of p.initContainers ?? []) {
    if (!NAME.test(c.name)) throw errors.invalidContent(`init container name '${c.name}' must be 1 to 63 lowercase letters, digits and '-'`);
    if (seen.has(c.name)) throw errors.invalidContent(`container name '${c.name}' is used twice in container group '${groupName}'`);
    seen.add(c.name);
    if (!c.properties.image) throw errors.invalidContent(`properties.initContainers: '${c.name}': properties.image: is required`);
  }
  const initContainers: ContainerSpec[] = (p.initContainers ?? []).map((c) => ({
    name: c.name,
    image: c.properties.image!,
    command: c.properties.command && c.properties.command.length > 0 ? c.properties.command : undefined,
    env: (c.properties.environmentVariables ?? []).map((e) => ({ name: e.name, value: e.value, secureValue: e.secureValue })),
    ports: [],
    cpu: 0,
    memoryInGB: 0,
    gpu: false,
  }));
  const ip = p.ipAddress;
  return {
    body,
    location: body.location,
    region: normalizeRegion(body.location),
    tags: body.tags,
    restartPolicy: p.restartPolicy ?? "Always",
    priority: p.priority ?? "Regular",
    osType: p.osType,
    containers,
    initContainers,
    ipAddress: ip
      ? { type: ip.type, ports: ip.ports.map((x) => ({ port: x.port, protocol: x.protocol ?? "TCP" })), dnsNameLabel: ip.dnsNameLabel }
      : undefined,
    cpu: round(containers.reduce((s, c) => s + c.cpu, 0)),
    memoryInGB: round(containers.reduce((s, c) => s + c.memoryInGB, 0)),
  };
}

/** Read-only fields a client may echo back from a GET; ARM ignores them on PUT. */
function stripReadOnly(body: ContainerGroupBody): ContainerGroupBody {
  const p = body.properties as Record<string, unknown>;
  delete p.instanceView;
  delete p.provisioningState;
  // Sent by the live service, not in the 2023-05-01 description: a client echoing a GET sends them back.
  delete p.provisioningTimeoutInSeconds;
  delete p.isCustomProvisioningTimeout;
  for (const c of [...body.properties.containers, ...(body.properties.initContainers ?? [])]) delete (c.properties as Record<string, unknown>).instanceView;
  if (body.properties.ipAddress) delete (body.properties.ipAddress as Record<string, unknown>).fqdn;
  if (body.identity) {
    delete (body.identity as Record<string, unknown>).principalId;
    delete (body.identity as Record<string, unknown>).tenantId;
  }
  return body;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Deep equality of two validated bodies, to recognise a repeated PUT. */
export function sameBody(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
