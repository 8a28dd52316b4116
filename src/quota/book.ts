// The quota concern inside the tenant's Durable Object, as the object's methods call it: admission, the
// reservation's life (attach raises it, abort releases it, the end settles it) and the reads behind
// GET /v1/usage and the operator's ledger. Every write is synchronous, inside the step that causes it;
// mirroring ended tasks to KV happens afterwards, from the object's alarm (`syncKv`).
import { LEDGER_PAGE_MAX } from "../config/constants";
import type { AlarmClock } from "../state/alarm";
import type { TaskRecord, TaskTable } from "../tasks/table";
import { reportedCreditsUsed, type UpstreamTask } from "../upstream/schema";
import { admit, type AdmissionCheck, type AdmitRequest, type AdmitResult, judge } from "./admission";
import { IdempotencyTable, type StoredResponse, type WaitOutcome } from "../idempotency/keys";
import { type LedgerEntry, ledgerEntry, syncEndedTasks } from "./kv-sync";
import { type MonthTotals, QuotaCounters, type ThresholdReached } from "./counters";
import { type Refusal, type ScopeState } from "./arithmetic";
import { monthStart, nextMonthStart } from "../util/month";

export interface UsageSnapshot {
  tenant: ScopeState;
  /** Present when the caller's token has a `sub`. */
  user: ScopeState | null;
}

export interface LedgerPage {
  totals: MonthTotals[];
  tasks: LedgerEntry[];
  /** Pass back as `cursor` for the next page; null on the last. */
  cursor: string | null;
}

/** What a task cost when it ended: the upstream's figure for a completion, else the estimate; 0 otherwise. */
export function chargeFor(record: TaskRecord, upstream: UpstreamTask): number {
  if (upstream.status !== "completed") return 0;
  return reportedCreditsUsed(upstream) ?? record.estimate;
}

export class QuotaBook {
  private readonly counters: QuotaCounters;
  private readonly idempotency: IdempotencyTable;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tasks: TaskTable,
    private readonly kv: KVNamespace,
    private readonly tenantId: string,
    private readonly alarm: Pick<AlarmClock, "armBy">,
    onThreshold?: (reached: ThresholdReached) => void,
  ) {
    this.counters = new QuotaCounters(storage.sql, onThreshold);
    this.idempotency = new IdempotencyTable(storage.sql);
  }

  /**
   * Checks the limits and records the task, or refuses, as one transaction. `running` says which admitted
   * attempts are still alive in this instance (a key held by any other is taken over).
   */
  admit(request: AdmitRequest, running: (taskId: string) => boolean): AdmitResult {
    const tables = { tasks: this.tasks, counters: this.counters, idempotency: this.idempotency, running };
    try {
      return this.storage.transactionSync(() => admit(tables, request));
    } catch (err) {
      // The step rolled back: an admission it added to the in-memory windows never happened.
      this.counters.forgetWindows();
      throw err;
    }
  }

  /** What admission would answer to `request` now, without admitting it: writes nothing (the estimate). */
  check(request: AdmissionCheck): Refusal | null {
    return judge(this.counters, request).refusal;
  }

  /** The upstream accepted the task (`before` is the row as it was): raise the hold, keep the answer. */
  attached(before: TaskRecord, reserved: number, response: StoredResponse | null): void {
    this.counters.adjust(before, before.reserved, reserved);
    if (response) this.idempotency.complete(before.id, response);
  }

  /** The upstream call failed before a task id came back: the hold goes, a retry may claim the key. */
  aborted(record: TaskRecord, failure: StoredResponse | null): void {
    this.counters.release(record, record.reserved);
    this.idempotency.fail(record.id, failure);
  }

  /** The task ended (once per task): the hold is replaced by what it cost, which is returned. */
  settle(record: TaskRecord, upstream: UpstreamTask, now: number): number {
    const charged = chargeFor(record, upstream);
    this.tasks.setCharged(record.id, charged, now);
    this.counters.settle(record, record.reserved, charged);
    this.wake();
    return charged;
  }

  /** The caller's scopes for GET /v1/usage; with `limits`, a slot's expected end only when none is left. */
  usage(sub: string | null, now: number, limits?: AdmitRequest["limits"]): UsageSnapshot {
    return {
      tenant: this.counters.reportState("tenant", null, now, limits?.tenant),
      user: sub === null ? null : this.counters.reportState("user", sub, now, limits?.user),
    };
  }

  /** The month's totals per scope and a page of its tasks (created in the month), oldest first. */
  month(monthMs: number, cursor: string | null, limit: number): LedgerPage {
    const page = Math.min(Math.max(1, limit), LEDGER_PAGE_MAX);
    const after = decodeCursor(cursor);
    const rows = this.tasks.createdBetween(monthStart(monthMs), nextMonthStart(monthMs), after, page + 1);
    const more = rows.length > page;
    const shown = rows.slice(0, page);
    const last = shown[shown.length - 1];
    return {
      totals: this.counters.month(new Date(monthMs).toISOString().slice(0, 7)),
      tasks: shown.map(ledgerEntry),
      cursor: more && last ? `${last.createdAt}.${last.id}` : null,
    };
  }

  /** The object's storage was wiped (or changed behind its back, in tests): windows are read again. */
  forgetWindows(): void {
    this.counters.forgetWindows();
  }

  wait(sub: string | null, key: string, now: number): WaitOutcome {
    return this.idempotency.wait(sub, key, now);
  }

  purgeExpired(now: number, limit: number): number {
    return this.idempotency.purge(now, limit);
  }

  /** When the oldest Idempotency-Key record expires (the sweeper purges it then), or null. */
  nextIdempotencyExpiry(): number | null {
    return this.idempotency.nextExpiry();
  }

  /** Alarm step: mirror ended tasks to KV. Returns when it next wants to run, or null. */
  syncKv(now: number): Promise<number | null> {
    return syncEndedTasks(this.kv, this.tasks, this.tenantId, now);
  }

  /**
   * Wakes the object's alarm so `syncKv` runs after this step commits — on the real clock, whatever `now`
   * the observation carried.
   */
  private wake(): void {
    this.alarm.armBy(Date.now());
  }
}

function decodeCursor(cursor: string | null): { createdAt: number; id: string } | null {
  const m = cursor ? /^(\d{1,15})\.(.{1,200})$/.exec(cursor) : null;
  return m ? { createdAt: Number(m[1]), id: m[2]! } : null;
}
