/**
 * Timer triggers: 6-field NCRONTAB ("{second} {minute} {hour} {day} {month} {day-of-week}",
 * UTC) or a TimeSpan interval ("hh:mm:ss"), with runOnStartup. As in Azure, a timer
 * runs on one instance only: the listener holds a blob lease
 * (azure-webjobs-hosts/locks/<hostId>/<function>.Listener), and only the holder fires.
 */
import { CronExpressionParser } from "cron-parser";
import type { ContainerClient } from "@azure/storage-blob";
import { parseTimeSpan } from "./hostConfig.js";

export interface Schedule {
  /** The next occurrence strictly after `after`. */
  next(after: Date): Date;
  describe: string;
}

export function parseSchedule(expression: string): Schedule {
  const expr = expression.trim();
  if (/^\d+(\.\d+)?:\d{1,2}:\d{1,2}/.test(expr) || /^\d{1,2}:\d{1,2}:\d{1,2}$/.test(expr)) {
    const ms = parseTimeSpan(expr, "schedule");
    if (ms <= 0) throw new Error(`timer schedule ${JSON.stringify(expression)}: the interval must be positive`);
    return { describe: `every ${ms} ms`, next: (after) => new Date(after.getTime() + ms) };
  }
  const fields = expr.split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`timer schedule ${JSON.stringify(expression)}: NCRONTAB needs 6 fields (second minute hour day month day-of-week), got ${fields.length}`);
  }
  try {
    CronExpressionParser.parse(expr, { tz: "UTC" });
  } catch (err) {
    throw new Error(`timer schedule ${JSON.stringify(expression)}: ${(err as Error).message}`, { cause: err });
  }
  return {
    describe: expr,
    next: (after) => CronExpressionParser.parse(expr, { currentDate: after, tz: "UTC" }).next().toDate(),
  };
}

export interface TimerInfo {
  Schedule: { AdjustForDST: boolean };
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string } | null;
  IsPastDue: boolean;
}

const LEASE_SECONDS = 15;

/** The single-instance lock, over a blob lease. */
export class ListenerLock {
  #leaseId?: string;
  constructor(private readonly container: ContainerClient, private readonly blobName: string) {}

  get held(): boolean {
    return this.#leaseId !== undefined;
  }

  /** Takes or renews the lease; returns whether this instance holds it. */
  async tryHold(): Promise<boolean> {
    const blob = this.container.getBlockBlobClient(this.blobName);
    const lease = blob.getBlobLeaseClient(this.#leaseId);
    try {
      if (this.#leaseId) {
        await lease.renewLease();
      } else {
        await this.container.createIfNotExists();
        if (!(await blob.exists())) await blob.upload("", 0).catch(() => undefined);
        const r = await lease.acquireLease(LEASE_SECONDS);
        this.#leaseId = r.leaseId;
      }
      return true;
    } catch {
      this.#leaseId = undefined;
      return false;
    }
  }

  async release(): Promise<void> {
    if (!this.#leaseId) return;
    await this.container.getBlockBlobClient(this.blobName).getBlobLeaseClient(this.#leaseId).releaseLease().catch(() => undefined);
    this.#leaseId = undefined;
  }
}

/** The longest delay setTimeout honours. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class TimerListener {
  #timer?: NodeJS.Timeout;
  #lockTimer?: NodeJS.Timeout;
  #last?: Date;
  #stopped = false;
  #running?: Promise<void>;

  constructor(private readonly o: {
    schedule: Schedule;
    runOnStartup: boolean;
    lock: ListenerLock;
    fire(info: TimerInfo): Promise<void>;
    log(level: "information" | "warning" | "error", message: string): void;
  }) {}

  async start(): Promise<void> {
    const poll = async () => {
      const wasHeld = this.o.lock.held;
      const held = await this.o.lock.tryHold();
      if (this.#stopped) return;
      if (held && !wasHeld) {
        if (this.o.runOnStartup) this.#fire(false);
        this.#scheduleNext();
      } else if (!held && wasHeld) {
        clearTimeout(this.#timer);
      }
      this.#lockTimer = setTimeout(poll, (LEASE_SECONDS * 1000) / 3);
    };
    await poll();
  }

  #scheduleNext(): void {
    this.#waitFor(this.o.schedule.next(new Date()));
  }

  /**
   * Node fires a timeout longer than 2^31 − 1 ms (24.8 days) at once, so a yearly schedule
   * would fire in a loop: a far occurrence is reached in steps no longer than that.
   */
  #waitFor(next: Date): void {
    const wait = Math.max(0, next.getTime() - Date.now());
    this.#timer = setTimeout(() => {
      if (this.#stopped || !this.o.lock.held) return;
      if (wait > MAX_TIMEOUT_MS) return this.#waitFor(next);
      this.#fire(Date.now() - next.getTime() > 1000);
      this.#scheduleNext();
    }, Math.min(wait, MAX_TIMEOUT_MS));
  }

  #fire(isPastDue: boolean): void {
    const now = new Date();
    const info: TimerInfo = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: this.#last
        ? { Last: this.#last.toISOString(), Next: this.o.schedule.next(now).toISOString(), LastUpdated: now.toISOString() }
        : null,
      IsPastDue: isPastDue,
    };
    this.#last = now;
    // One invocation at a time, as the real timer listener does.
    if (this.#running) return;
    this.#running = this.o.fire(info)
      .catch((err) => this.o.log("error", `timer failed: ${(err as Error).message}`))
      .finally(() => { this.#running = undefined; });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#lockTimer);
    await this.#running;
    await this.o.lock.release();
  }
}
