/**
 * Glossary — the words Burst uses, defined once.
 *
 * - **Job**: one unit of work a user submits: an image, a command and limits (a job
 *   spec). It has an id, a state (see jobState.ts) and a record of every attempt.
 * - **Attempt**: one try at running a job: exactly one container group, named from the
 *   job id and the attempt number. A job that fails and has retries left gets a new
 *   attempt; the old attempt's record is kept.
 * - **Pool**: a named set of limits and targets: max concurrency, budget windows,
 *   and its placements.
 * - **Placement**: one subscription / resource group / region a pool's groups may go
 *   to, Regular or Spot, with its prices and quota (placements.ts).
 * - **Slot**: the right to have one container group alive in a pool. A job holds a
 *   slot from admission until its group is deleted.
 * - **Budget window**: a UTC day or month with a USD limit. Admission reserves a job's
 *   worst-case cost in its windows; completion settles it to the actual cost.
 * - **Container group**: the ACI resource that runs an attempt. Burst creates it,
 *   polls it, copies its logs and deletes it.
 * - **Ledger**: per pool, in one Table partition: who holds slots with what
 *   reservation, the spent totals per window, the waiting line, and a cost row per job.
 * - **Runner profile**: a mapping from GitHub Actions runner labels to a job template,
 *   for CI agents on demand.
 */

export const JOB_STATES = [
  "Waiting", "Admitted", "Launching", "Running", "Finishing",
  "Succeeded", "Failed", "TimedOut", "Canceled", "Rejected",
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINAL_STATES: ReadonlySet<JobState> = new Set(["Succeeded", "Failed", "TimedOut", "Canceled", "Rejected"]);
/** The states a job is still going through: the reconciler watches these. */
export const ACTIVE_STATES: readonly JobState[] = JOB_STATES.filter((s) => !FINAL_STATES.has(s));

/** How an attempt ended. PlatformError is Azure's fault (capacity, pull, 5xx, eviction), not the job's. */
export type AttemptOutcome = "Succeeded" | "Failed" | "TimedOut" | "Canceled" | "PlatformError";

export interface Attempt {
  n: number;
  group: string;
  /** When the attempt was first claimed for launch; part of the group's tags, so it never changes. */
  launchedAt?: string;
  /** The latest launch claim (a takeover renews it). */
  claimedAt?: string;
  /**
   * The earliest moment a PUT that may have created this attempt's group was sent: ACI
   * cannot have started billing before it. Cleared when a throttled PUT is known not to
   * have landed, so a deferred launch is not billed for its wait.
   */
  acceptedAt?: string;
  /** ARM throttled the create, or no placement had room: the launch resumes at this time, still holding the slot. */
  deferredUntil?: string;
  /** Where the attempt's group is (a placement id, `subscription/resourceGroup/region/priority`); absent before one had room. */
  placement?: string;
  /** ACI accepted the create, then failed it for want of capacity: not counted as a platform failure (see finish.ts). */
  noCapacity?: boolean;
  /** Placements that refused this attempt's create for capacity or quota, in order, with ACI's code (not counted as retries). */
  refusedBy?: { placement: string; code?: string }[];
  /** Start of the image pull: billing starts here. */
  pullStartedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** When billing stopped: the container finished, or Burst stopped the group. */
  stoppedAt?: string;
  /** When Burst noticed the end (for detection latency). */
  detectedAt?: string;
  exitCode?: number;
  outcome?: AttemptOutcome;
  reason?: string;
  restartCount?: number;
  billedSeconds?: number;
  /** Burst's estimate of what ACI bills: never below it (see costBasis). */
  costUsd?: number;
  /** How the estimate's billing start was found: the pull event, or the create's acceptance. */
  costBasis?: import("./pricing.js").CostBasis;
  /** The most the estimate can exceed the bill, in seconds of this attempt's rate. */
  costErrorSeconds?: number;
  /** What Azure Cost Management reports for the group, once it has (see the reconciler's true-up). */
  billedUsd?: number;
  /** The bill is final: Cost Management was read after its settling time. */
  billFinal?: boolean;
  reservedUsd?: number;
}

export interface SpecError {
  field: string;
  rule: string;
}

export interface LogInfo {
  lines: number;
  bytes: number;
  /** Set when ACI dropped output before Burst could copy it (see README). */
  truncated?: boolean;
}

/**
 * An array parent's bookkeeping, in its own record. Children are made lazily, in index
 * order, with ids `<parent>-<index>`: `created` says how many exist (a child may exist
 * just past it after a crash; creating it again is a no-op). `marks` holds one character
 * per index: "." while the child has not ended (or not been made), else the first letter
 * of its final state (S, F, T, C); a mark is set once, by the child's end, so the
 * roll-ups it carries (cost, billed seconds) are added once.
 */
export interface ArrayProgress {
  count: number;
  created: number;
  marks: string;
  billedSeconds: number;
  /** No more children will be made (canceled, or too many failed): the rest count as Canceled. */
  stopped?: boolean;
}

export interface JobRecord {
  id: string;
  name?: string;
  pool: string;
  priority: number;
  labels: Record<string, string>;
  idempotencyKey?: string;
  state: JobState;
  /** Why the job is in its state, for people. */
  reason?: string;
  errors?: SpecError[];
  createdAt: string;
  updatedAt: string;
  /** The spec without secure values (their names are kept). */
  spec?: import("./jobSpec.js").JobSpec;
  /** What the submitted spec asked for, as a digest (see submit.ts specDigest): a resubmission under the same idempotencyKey must match it. */
  specDigest?: string;
  /** secureEnv, sealed with the app's secret key (AES-256-GCM). */
  sealedSecureEnv?: string;
  attempts: Attempt[];
  /** Platform failures so far, counted apart from the job's own retries. */
  platformFailures: number;
  /** Own failures so far (non-zero exits). */
  ownFailures: number;
  cancelRequested?: boolean;
  /** Earliest time the next attempt may be admitted (retry backoff). */
  notBefore?: string;
  /** Monitor chain token: only the message carrying the current value acts. */
  monitorSeq: number;
  lastPolledAt?: string;
  lastLogReadAt?: string;
  nextLogReadAt?: string;
  log: LogInfo;
  /** Burst's estimate over every attempt: never below what ACI bills (but for a group that disappeared: see monitor.ts lastAlive). */
  costUsd: number;
  /** What Azure Cost Management reports so far, over the attempts it has reported. */
  billedUsd?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** Links back to where the job came from (e.g. a GitHub workflow job). */
  source?: Record<string, string | number>;
  /** An array parent's progress: its children are jobs of their own (see scheduler/array.ts). */
  array?: ArrayProgress;
  /** An array child: its parent and its index in the array. */
  parent?: { id: string; index: number };
  /** Dependencies (spec.dependsOn, all but n-to-n ones) not yet met: while any is left, the job waits outside the pool's line. */
  waitingFor?: string[];
  /** Jobs that depend on this one, told when it ends (see scheduler/dependencies.ts). */
  dependents?: string[];
  /** The job id that sealed sealedSecureEnv, when not this job's own (an array child carries its parent's). */
  sealedFor?: string;
  /** The events webhook's secret and Event Grid key (`{secret?, eventGridKey?}`), sealed like sealedSecureEnv (for sealedFor ?? id, "events"); never stored in clear. */
  sealedEventSecret?: string;
  /** Its events are its pool's defaults (spec.events copied from BURST_POOLS): their secrets come from the pool's app settings, not sealedEventSecret. */
  eventsFromPool?: boolean;
  /** Reachable address for groups with a public IP. */
  address?: { ip?: string; fqdn?: string; ports?: number[] };
}
