// The tenant's credit ledger in its Durable Object: per scope (the tenant, each user) and calendar month,
// the credits settled and still reserved, in integer units. Every change happens in the same synchronous
// step as the task change that causes it (admit, attach, abort, end), so the counters always equal the
// sums over the tasks table — without summing a month of tasks on every admission. The rate window and
// the tasks in flight are counted from the tasks table itself (indexes from migration "tasks/2").
import { DEFAULT_TASK_SECONDS, RATE_WINDOW_MS } from "../config/constants";
import type { TaskRecord } from "../tasks/store";
import type { QuotaLimits } from "../tenants/schema";
import { monthOf, type Scope, type ScopeState, toUnits } from "./policy";

/** Admissions read from one rate window at most (a limit is far below; this only bounds the read). */
const MAX_WINDOW_ROWS = 100_000;

/** The ledger row key of a scope: `tenant`, or `user:` + the token's `sub`. */
export function scopeKey(sub: string | null): string {
  return sub === null ? "tenant" : `user:${sub}`;
}

/** What a task contributes to the counters. */
type Entry = Pick<TaskRecord, "sub" | "createdAt">;

export interface MonthTotals {
  scope: string;
  usedUnits: number;
  reservedUnits: number;
}

export class QuotaLedger {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * The scope's state at `now`: rate window, tasks in flight and this month's credits. With `limits`,
   * the parts no limit needs are skipped (an unlimited tenant pays for no rate-window query).
   */
  state(scope: Scope, sub: string | null, now: number, limits?: QuotaLimits): ScopeState {
    const who = scope === "tenant" ? null : sub;
    const all = limits === undefined;
    const month = this.sql
      .exec<{ used: number; reserved: number }>(
        "SELECT used, reserved FROM quota_months WHERE scope = ? AND month = ?",
        scopeKey(who),
        monthOf(now),
      )
      .toArray()[0];
    const rate = all || limits.requests_per_minute !== undefined;
    const concurrency = all || limits.max_concurrent_tasks !== undefined;
    return {
      recent: rate ? this.admittedSince(who, now - RATE_WINDOW_MS, MAX_WINDOW_ROWS) : [],
      active: concurrency ? this.openCount(who) : 0,
      nextEndAt: concurrency ? this.nextExpectedEnd(who, DEFAULT_TASK_SECONDS) : null,
      usedUnits: month?.used ?? 0,
      reservedUnits: month?.reserved ?? 0,
    };
  }

  /** Holds `credits` for a new task (tenant and user rows of its creation month). */
  reserve(task: Entry, credits: number): void {
    this.add(task, 0, toUnits(credits));
  }

  /** The task's reservation changed (the upstream reserved more than the estimate). */
  adjust(task: Entry, from: number, to: number): void {
    this.add(task, 0, toUnits(to) - toUnits(from));
  }

  /** The task never reached the upstream, or the upstream charged nothing: its reservation goes. */
  release(task: Entry, reserved: number): void {
    this.add(task, 0, -toUnits(reserved));
  }

  /** The task ended: its reservation is replaced by what it cost. */
  settle(task: Entry, reserved: number, charged: number): void {
    this.add(task, toUnits(charged), -toUnits(reserved));
  }

  /** Every scope's totals for a month, the tenant first. */
  month(month: string): MonthTotals[] {
    return this.sql
      .exec<{ scope: string; used: number; reserved: number }>(
        `SELECT scope, used, reserved FROM quota_months WHERE month = ?
         ORDER BY scope = 'tenant' DESC, scope LIMIT 10000`,
        month,
      )
      .toArray()
      .map((r) => ({ scope: r.scope, usedUnits: r.used, reservedUnits: r.reserved }));
  }

  // Reads of the tasks table (src/tasks/store.ts); a scope is the whole tenant (`sub` null) or one user.

  /** Admission times after `since` (aborted tasks do not count), oldest first. */
  private admittedSince(sub: string | null, since: number, limit: number): number[] {
    const rows =
      sub === null
        ? this.sql.exec<{ t: number }>(
            `SELECT created_at AS t FROM tasks WHERE created_at > ? AND state != 'aborted'
             ORDER BY created_at LIMIT ?`,
            since,
            limit,
          )
        : this.sql.exec<{ t: number }>(
            `SELECT created_at AS t FROM tasks WHERE sub = ? AND created_at > ? AND state != 'aborted'
             ORDER BY created_at LIMIT ?`,
            sub,
            since,
            limit,
          );
    return rows.toArray().map((r) => r.t);
  }

  /** Tasks not ended (including those still `creating`). */
  private openCount(sub: string | null): number {
    const row =
      sub === null
        ? this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE ended_at IS NULL").one()
        : this.sql
            .exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE sub = ? AND ended_at IS NULL", sub)
            .one();
    return row.n;
  }

  /** The earliest expected end of an open task: creation + the upstream's estimated_time (or the default). */
  private nextExpectedEnd(sub: string | null, defaultSeconds: number): number | null {
    const expected = `MIN(created_at + COALESCE(json_extract(snapshot, '$.task_info.estimated_time'), ?) * 1000)`;
    const row =
      sub === null
        ? this.sql
            .exec<{ t: number | null }>(
              `SELECT ${expected} AS t FROM tasks WHERE ended_at IS NULL`,
              defaultSeconds,
            )
            .one()
        : this.sql
            .exec<{ t: number | null }>(
              `SELECT ${expected} AS t FROM tasks WHERE sub = ? AND ended_at IS NULL`,
              defaultSeconds,
              sub,
            )
            .one();
    return row.t;
  }

  private add(task: Entry, usedUnits: number, reservedUnits: number): void {
    if (usedUnits === 0 && reservedUnits === 0) return;
    const month = monthOf(task.createdAt);
    for (const scope of task.sub === null ? ["tenant"] : ["tenant", scopeKey(task.sub)]) {
      this.sql.exec(
        `INSERT INTO quota_months (scope, month, used, reserved) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, month) DO UPDATE SET used = used + excluded.used,
           reserved = reserved + excluded.reserved`,
        scope,
        month,
        usedUnits,
        reservedUnits,
      );
    }
  }
}
