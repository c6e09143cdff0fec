/**
 * A container group as ARM returns it: the request body echoed back with secrets
 * removed (secure environment values, registry passwords, storage and workspace keys,
 * secret volume contents), defaults filled in, and the read-only parts added
 * (provisioningState, ipAddress.ip/fqdn, identities, instance views).
 */
import { createHash } from "node:crypto";
import type { Container, ContainerGroup } from "./group.js";

type Json = Record<string, unknown>;

export interface RenderOptions {
  /** The group's instanceView (state and events). Lists leave it out, as Azure does. */
  groupView: boolean;
  /** Each container's instanceView; GET has it, PUT responses and lists do not. */
  containerViews: boolean;
}

export const RESOURCE_TYPE = "Microsoft.ContainerInstance/containerGroups";

export function renderGroup(g: ContainerGroup, options: RenderOptions): Json {
  const body = structuredClone(g.spec.body) as Json & { properties: Json };
  const raw = body.properties;
  const props: Json = {
    sku: raw.sku ?? "Standard",
    provisioningState: g.provisioningState,
    ...raw,
  };
  props.provisioningState = g.provisioningState;
  props.containers = (raw.containers as Json[]).map((c, i) => renderContainer(c, g.containers[i], options.containerViews));
  props.initContainers = ((raw.initContainers as Json[] | undefined) ?? []).map((c) => ({
    ...c,
    properties: { ...(c.properties as Json), environmentVariables: sanitizeEnv((c.properties as Json).environmentVariables) },
  }));
  props.restartPolicy = g.spec.restartPolicy;
  if (raw.ipAddress) props.ipAddress = renderIp(raw.ipAddress as Json, g);
  if (raw.imageRegistryCredentials) {
    props.imageRegistryCredentials = (raw.imageRegistryCredentials as Json[]).map(({ password: _p, ...rest }) => rest);
  }
  if (raw.volumes) props.volumes = (raw.volumes as Json[]).map(sanitizeVolume);
  if (raw.diagnostics) {
    const la = (raw.diagnostics as Json).logAnalytics as Json | undefined;
    props.diagnostics = la ? { logAnalytics: { workspaceId: la.workspaceId } } : {};
  }
  if (raw.extensions) {
    props.extensions = (raw.extensions as Json[]).map((e) => {
      const p = { ...((e.properties as Json | undefined) ?? {}) };
      delete p.protectedSettings;
      return { ...e, properties: p };
    });
  }
  if (options.groupView) props.instanceView = { events: g.groupEvents.list(), state: g.state };

  const out: Json = {
    id: g.ref.id,
    name: g.ref.name,
    type: RESOURCE_TYPE,
    location: g.spec.region,
  };
  if (body.tags) out.tags = body.tags;
  if (body.identity) out.identity = renderIdentity(body.identity as Json, g.ref.id);
  out.properties = props;
  if (body.zones) out.zones = body.zones;
  return out;
}

function renderContainer(raw: Json, live: Container | undefined, withView: boolean): Json {
  const p = raw.properties as Json;
  const properties: Json = {
    ...p,
    ports: p.ports ?? [],
    environmentVariables: sanitizeEnv(p.environmentVariables),
  };
  if (withView && live) {
    properties.instanceView = {
      restartCount: live.restartCount,
      currentState: { ...live.current },
      ...(live.previous ? { previousState: { ...live.previous } } : {}),
      events: live.events.list(),
    };
  }
  return { name: raw.name, properties };
}

/** ACI never returns a secure value: the variable comes back with its name only. */
function sanitizeEnv(env: unknown): Json[] {
  return ((env as Json[] | undefined) ?? []).map(({ secureValue: _s, ...rest }) => rest);
}

function sanitizeVolume(v: Json): Json {
  const out: Json = { ...v };
  if (v.azureFile) {
    const { storageAccountKey: _k, ...rest } = v.azureFile as Json;
    out.azureFile = rest;
  }
  if (v.secret) out.secret = {};
  return out;
}

function renderIp(raw: Json, g: ContainerGroup): Json {
  const address = g.address;
  const ip: Json = { ...raw };
  if (address) {
    ip.ports = (raw.ports as Json[]).map((p) => {
      const mapped = address.ports.find((m) => m.port === p.port);
      return { ...p, protocol: p.protocol ?? "TCP", port: mapped?.hostPort ?? p.port };
    });
    ip.ip = address.ip;
  }
  if (typeof raw.dnsNameLabel === "string") ip.fqdn = `${raw.dnsNameLabel}.${g.spec.region}.azurecontainer.io`;
  return ip;
}

function renderIdentity(raw: Json, id: string): Json {
  const type = String(raw.type);
  const out: Json = { ...raw };
  if (type.includes("SystemAssigned")) {
    out.principalId = fakeGuid(`principal:${id}`);
    out.tenantId = fakeGuid("tenant");
  }
  if (raw.userAssignedIdentities) {
    out.userAssignedIdentities = Object.fromEntries(
      Object.keys(raw.userAssignedIdentities as Json).map((k) => [k, { principalId: fakeGuid(`uai-p:${k}`), clientId: fakeGuid(`uai-c:${k}`) }]),
    );
  }
  return out;
}

function fakeGuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
