/**
 * Azure-AsyncOperation records. The PUT/start/restart response points the SDK's poller
 * at `…/locations/{region}/operations/{id}`; the body is what the live service sends:
 * `{id, status, startTime, [endTime], properties:{events:[]}, [error]}` with status
 * Pending until it ends in Succeeded, Failed or Canceled.
 */
import { randomUUID } from "node:crypto";
import type { ArmError } from "./errors.js";

export type OperationStatus = "Pending" | "Succeeded" | "Failed" | "Canceled";

export class AsyncOperation {
  readonly id = randomUUID();
  status: OperationStatus = "Pending";
  endTime?: number;
  error?: { code: string; message: string };

  constructor(
    readonly resourceId: string,
    readonly subscriptionId: string,
    readonly region: string,
    readonly startTime: number,
  ) {}

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
    return this.status !== "Pending";
  }

  body(): Record<string, unknown> {
    return {
      id: this.resourceId,
      status: this.status,
      startTime: new Date(this.startTime).toISOString(),
      ...(this.endTime !== undefined ? { endTime: new Date(this.endTime).toISOString() } : {}),
      properties: { events: [] },
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
