/**
 * Workflow-job claims: one Table entity per GitHub workflow job id, created insert-only
 * before a JIT configuration is minted, so that of any number of (re)deliveries of a
 * `queued` event exactly one mints — each mint registers a runner in GitHub.
 *
 *   (none) ─insert─► claimed ─mint─► minted ─submit─► submitted
 *      │               │               │                 │
 *      └───────────────┴───────────────┴─────────────────┴──► closed  (`completed` seen)
 *
 * - claimed:   someone is minting; `claimedAt` starts its lease. A claim older than the
 *              lease with no job was left by a crash: a redelivery takes it over (ETag-
 *              guarded, generation + 1) and mints under a new runner name.
 * - minted:    the JIT configuration is kept here *sealed* (AES-GCM, BURST_SECRET_KEY) so a
 *              crash before the submit is resumed without minting again.
 * - submitted: the runner job exists (its id comes from the idempotency key); the sealed
 *              configuration is dropped.
 * - closed:    the workflow job completed; a late or redelivered `queued` launches nothing.
 *
 * A claim whose runner job is deleted by retention goes with it (retire, below): a
 * `queued` delivered after that would launch a new runner.
 */
import type { TableClient } from "@azure/data-tables";
import { ensureTable, isConflict, isNotFound } from "../store/tables.js";
import type { Versioned } from "../store/jobStore.js";

export type ClaimStatus = "claimed" | "minted" | "submitted" | "closed";

export interface Claim {
  workflowJobId: number;
  status: ClaimStatus;
  /** Bumped on each takeover; part of the runner name, so a retried mint never reuses one. */
  generation: number;
  claimedAt: string;
  updatedAt: string;
  jobId?: string;
  profile?: string;
  runnerName?: string;
  runnerId?: number;
  /** Only while `minted`. */
  sealedJitConfig?: string;
  closedReason?: string;
}

const ROW = "claim";

function toEntity(c: Claim) {
  const { workflowJobId, ...rest } = c;
  return { partitionKey: String(workflowJobId), rowKey: ROW, ...rest };
}

export class ClaimStore {
  constructor(private readonly table: TableClient) {}

  async get(workflowJobId: number): Promise<Versioned<Claim> | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(String(workflowJobId), ROW);
      const { partitionKey: _p, rowKey: _r, etag, timestamp: _t, ...rest } = e;
      return { value: { ...(rest as unknown as Omit<Claim, "workflowJobId">), workflowJobId }, etag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Inserts; undefined when a claim for that workflow job already exists. */
  async insert(claim: Claim): Promise<string | undefined> {
    await ensureTable(this.table);
    try {
      return (await this.table.createEntity(toEntity(claim))).etag;
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw err;
    }
  }

  /** Replaces if the ETag is still current; undefined when it is not (someone else changed the claim). */
  async replace(claim: Claim, etag: string): Promise<string | undefined> {
    try {
      return (await this.table.updateEntity(toEntity(claim), "Replace", { etag })).etag;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Deletes the claim that launched `jobId` once that job is deleted (retention); a claim
   * taken over for another job, or already gone, is left. False when nothing was deleted.
   */
  async retire(workflowJobId: number, jobId: string): Promise<boolean> {
    const current = await this.get(workflowJobId);
    if (!current || current.value.jobId !== jobId) return false;
    return this.delete(workflowJobId, current.etag);
  }

  async delete(workflowJobId: number, etag: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(String(workflowJobId), ROW, { etag });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }
}
