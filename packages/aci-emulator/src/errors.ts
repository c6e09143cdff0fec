/**
 * ARM errors as the service sends them: an HTTP status plus a CloudError body
 * `{error:{code,message}}`. Codes and message texts follow what the live service
 * returns (see README.md for sources and the few the emulator had to choose).
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ArmError";
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

const ACI = "Microsoft.ContainerInstance/containerGroups";

function num(n: number): string {
  return String(Number(n.toFixed(6)));
}

export const errors = {
  groupNotFound: (resourceGroup: string, name: string) =>
    new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${ACI}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  containerNotFound: (group: string, container: string) =>
    new ArmError(404, "ResourceNotFound", `The container '${container}' was not found in container group '${group}'.`),
  operationNotFound: (id: string) => new ArmError(404, "ResourceNotFound", `The operation '${id}' was not found.`),
  pathNotFound: (path: string) =>
    new ArmError(404, "InvalidResourceType", `The resource type could not be found for the request path '${path}' in api-version '2023-05-01'.`),
  methodNotAllowed: (method: string) =>
    new ArmError(405, "MethodNotAllowed", `The requested method '${method}' is not supported for this resource.`),
  missingApiVersion: () =>
    new ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."),
  unsupportedApiVersion: (version: string) =>
    new ArmError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for API version '${version}' and type 'containerGroups'. The supported api-versions are '2023-05-01'.`,
    ),
  invalidContent: (detail: string) =>
    new ArmError(400, "InvalidRequestContent", `The request content was invalid and could not be deserialized: ${detail}`),
  invalidName: (name: string) =>
    new ArmError(
      400,
      "InvalidResourceName",
      `The resource name '${name}' is invalid. A container group name must be 1 to 63 characters of lowercase letters, digits and '-', and must not start or end with '-'.`,
    ),
  inaccessibleImage: (image: string, group: string, why: string) =>
    new ArmError(
      400,
      "InaccessibleImage",
      `The image '${image}' in container group '${group}' is not accessible. Please check the image and registry credential. (${why})`,
    ),
  // Code and status as Microsoft's troubleshooting article ("ContainerGroupQuotaReached" error) and a
  // live 400 quoted in hashicorp/terraform-provider-azurerm's issues show them.
  quotaExceeded: (quota: "ContainerGroups" | "StandardCores", region: string, limit: number, usage: number, requested: number) =>
    new ArmError(
      400,
      "ContainerGroupQuotaReached",
      `Resource type '${ACI}' container group quota '${quota}' exceeded in region '${region}'. Limit: '${num(limit)}', Usage: '${num(usage)}' Requested: '${num(requested)}'.`,
    ),
  capacity: (cpu: number, memoryInGB: number, region: string) =>
    new ArmError(
      409,
      "ServiceUnavailable",
      `The requested resource with '${num(cpu)}' CPU and '${num(memoryInGB)}' GB memory is not available in the location '${region}' at this moment. Please retry with a different resource request or in another location.`,
    ),
  overGroupMaximum: (group: string, priority: string, cpu: number, memoryInGB: number, maxCpu: number, maxMemoryInGB: number) =>
    new ArmError(
      400,
      "ResourceRequestsExceedMaximum",
      `The total resource request of container group '${group}' ('${num(cpu)}' CPU, '${num(memoryInGB)}' GB memory) exceeds the maximum allowed for a ${priority} container group ('${num(maxCpu)}' CPU, '${num(maxMemoryInGB)}' GB memory).`,
    ),
  tooManyContainers: (group: string, count: number, max: number) =>
    new ArmError(400, "ContainerGroupTooManyContainers", `The container group '${group}' has ${count} containers; at most ${max} are allowed.`),
  spotWithPublicIp: () =>
    new ArmError(
      400,
      "SpotPriorityContainerGroupNotSupportedForInboundConnectivity",
      "Spot priority container groups do not support inbound connectivity (a public IP address). Remove the ipAddress or use Regular priority.",
    ),
  spotWithGpu: () =>
    new ArmError(400, "SpotPriorityContainerGroupWithGPUResourcesNotSupported", "Spot priority container groups do not support GPU resources."),
  // The emulator's own: a group restored from its state file lost its secrets, and running it without them would be wrong silently.
  restoredWithoutSecrets: (name: string) =>
    new ArmError(
      409,
      "ContainerGroupRestoredWithoutSecrets",
      `The container group '${name}' was restored from the emulator's state file, which keeps no secure values or other secrets, so it cannot run again as it was. Create it again with a PUT that carries them.`,
    ),
  notSpot: (name: string) => new ArmError(400, "ContainerGroupNotSpot", `The container group '${name}' does not have Spot priority.`),
  armThrottled: (kind: "read" | "write" | "delete", subscriptionId: string, retryAfterSeconds: number, headers: Record<string, string>) =>
    new ArmError(
      429,
      "SubscriptionRequestsThrottled",
      `Number of '${kind}' requests for subscription '${subscriptionId}' actions exceeded. Please try again after '${retryAfterSeconds}' seconds after the first request. The throttled requests are counted as well.`,
      { "Retry-After": String(retryAfterSeconds), ...headers },
    ),
  windowThrottled: (kind: "Create" | "Delete", window: string, retryAfterSeconds: number, headers: Record<string, string>) =>
    new ArmError(
      429,
      "TooManyRequests",
      `The request is being throttled as the limit has been reached for operation type - ${kind}_ObservationWindow_${window}. For more information, see - https://aka.ms/srpthrottlinglimits`,
      { "Retry-After": String(retryAfterSeconds), ...headers },
    ),
  storm: (retryAfterSeconds: number) =>
    new ArmError(429, "TooManyRequests", "The request is being throttled. Please retry after the interval in the Retry-After header.", {
      "Retry-After": String(retryAfterSeconds),
    }),
  injectedInternal: () =>
    new ArmError(500, "InternalServerError", "Encountered internal server error. Please try again later."),
  injectedUnavailable: () =>
    new ArmError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later."),
};

export function asArmError(err: unknown): ArmError {
  if (err instanceof ArmError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ArmError(500, "InternalServerError", `The emulator failed to handle the request: ${message}`);
}
