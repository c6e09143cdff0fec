/** Builds the ACI container group for one attempt of a job. */
import type { ContainerGroup } from "@azure/arm-containerinstance";
import type { JobSpec } from "../jobSpec.js";
import type { PoolConfig } from "../config.js";
import type { Placement } from "../placements.js";

export const CONTAINER_NAME = "job";

export const TAGS = {
  managed: "burst-managed",
  job: "burst-job",
  pool: "burst-pool",
  attempt: "burst-attempt",
  created: "burst-created",
  /** BURST_DEPLOYMENT_ID: which Burst made the group, so a deployment reaps only its own. */
  deployment: "burst-deployment",
} as const;

export function buildGroup(args: {
  jobId: string;
  attempt: number;
  spec: JobSpec;
  secureEnv: Record<string, string>;
  pool: PoolConfig;
  /** Where it goes: its region, and Spot or Regular. */
  placement: Pick<Placement, "region" | "priority">;
  now: Date;
  deploymentId: string;
}): ContainerGroup {
  const { spec, pool } = args;
  const env = [
    ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
    ...Object.entries(args.secureEnv).map(([name, secureValue]) => ({ name, secureValue })),
  ];
  const group: ContainerGroup = {
    location: args.placement.region,
    tags: {
      [TAGS.managed]: "true",
      [TAGS.job]: args.jobId,
      [TAGS.pool]: pool.name,
      [TAGS.attempt]: String(args.attempt),
      [TAGS.created]: args.now.toISOString(),
      [TAGS.deployment]: args.deploymentId,
    },
    osType: "Linux",
    restartPolicy: "Never",
    sku: pool.sku,
    // Regular is ACI's default; sent only for Spot, so a Regular PUT stays what it was.
    ...(args.placement.priority === "Spot" ? { priority: "Spot" } : {}),
    containers: [{
      name: CONTAINER_NAME,
      image: spec.image,
      command: spec.command,
      environmentVariables: env.length ? env : undefined,
      resources: { requests: { cpu: spec.cpu, memoryInGB: spec.memoryGb } },
      ports: spec.ports?.map((port) => ({ port, protocol: "TCP" })),
    }],
  };
  // A private IP would need a VNet subnet; without publicIp the ports are only declared.
  if (spec.publicIp && spec.ports?.length) {
    group.ipAddress = {
      type: "Public",
      ports: spec.ports.map((port) => ({ port, protocol: "TCP" })),
    };
  }
  return group;
}
