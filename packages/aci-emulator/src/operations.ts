/**
 * Azure-AsyncOperation records. The PUT/start/restart response points the SDK's poller
 * at `…/locations/{region}/operations/{id}?api-version=2018-06-01` (the version every
 * live recording's header carries). The body is what the live service sends:
 * `{id, status, startTime, properties:{events}, [error]}`. `status` is Pending until it
 * ends in Succeeded, Failed or Canceled, as every 2023-05-01 recording shows; the
 * 2019-12-01 recording passes through Creating once the image pull starts, which
 * `fidelity.operationCreating` reproduces. No recorded body, finished or not, has an endTime.
 */
import { randomUUID } from "node:crypto";
import type { ArmError } from "./errors.js";
import type { AciEvent } from "./events.js";

export type OperationStatus = "Pending" | "Succeeded" | "Failed" | "Canceled";

/** The api-version in Azure-AsyncOperation URLs; the operation route answers it as well as the resource's own. */
export const OPERATION_API_VERSION = "2018-06-01";

export class AsyncOperation {
  readonly id = randomUUID();
  status: OperationStatus = "Pending";
  /** The image pull has started (the group's provisioningState is Creating). */
  pulling = false;
  endTime?: number;
  error?: { code: string; message: string };

  constructor(
    readonly resourceId: string,
    readonly subscriptionId: string,
    readonly region: string,
    readonly startTime: number,
    /** The events the finished operation reports (the containers' pull events, where the service shows them). */
    private readonly events: () => AciEvent[] = () => [],
  ) {}

  creating(): void {
    this.pulling = true;
  }

  succeed(now: number): void {
    this.finish("Succeeded", now);
  }

  fail(error: ArmError, now: number): void {
    if (this.finish("Failed", now)) this.error = { code: error.code, message: error.message };
  }

  cancel(now: number): void {
    this.finish("Canceled", now);
  }

  get done(): boolean {
    return this.status === "Succeeded" || this.status === "Failed" || this.status === "Canceled";
  }

  /** `showCreating`: report Creating while the pull runs, as the 2019-12-01 service did. */
  body(showCreating = false): Record<string, unknown> {
    return {
      id: this.resourceId,
      status: showCreating && this.pulling && !this.done ? "Creating" : this.status,
      startTime: new Date(this.startTime).toISOString(),
      properties: { events: this.done ? this.events() : [] },
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private finish(status: OperationStatus, now: number): boolean {
    if (this.done) return false;
    this.status = status;
    this.endTime = now;
    return true;
  }
}

/** Keeps recent operations, oldest dropped first, so a long run does not grow forever. */
export class OperationStore {
  private readonly ops = new Map<string, AsyncOperation>();

  constructor(private readonly capacity = 50_000) {}

  add(op: AsyncOperation): AsyncOperation {
    this.ops.set(op.id, op);
    if (this.ops.size > this.capacity) this.ops.delete(this.ops.keys().next().value!);
    return op;
  }

  get(id: string): AsyncOperation | undefined {
    return this.ops.get(id.toLowerCase()) ?? this.ops.get(id);
  }

  clear(): void {
    this.ops.clear();
  }
}
