// The tenant's quota counters in its Durable Object, per scope (the tenant, each user). Credits: settled and
// still reserved per calendar month, in integer units, changed in the same synchronous step as the task
// change that causes it (admit, attach, abort, end). Tasks in flight: a counter kept by triggers on the
// tasks table (migration "quota/2"). So admission reads a few rows per scope, however many tasks the
// tenant has: the rate window is counted from an index, up to the scope's own limit.
import { DEFAULT_ALERT_THRESHOLDS, DEFAULT_TASK_SECONDS, RATE_WINDOW_MS } from "../config/constants";
import { base32, randomBytes } from "../util/hmac";
import { RecentAdmissions } from "./recent";
import type { TaskRecord } from "../tasks/table";
import type { QuotaLimits } from "../tenants/schema";
import { monthOf } from "../util/month";
import { EMPTY_WINDOW, type RateWindow, type Scope, type ScopeState, toUnits } from "./arithmetic";

/** The counters' row key of a scope: `tenant`, or `user:` + the token's `sub`. */
export function scopeKey(sub: string | null): string {
  return sub === null ? "tenant" : `user:${sub}`;
}

/** What a task contributes to the counters. */
type Entry = Pick<TaskRecord, "sub" | "createdAt">;

/** A scope's tenant and user limits, as admission applies them to a task (`quotas`, `user_quotas`). */
export interface ScopeLimits {
  tenant: QuotaLimits;
  user: QuotaLimits;
}

/**
 * A threshold of a scope's monthly credits reached for the first time this month (used + reserved ≥
 * limit × threshold / 100): `audience` `tenant` for the tenant's own thresholds (`quota.threshold`),
 * `operator` for the tenant reaching 100 % (`tenant.quota_exhausted`). Reported once, ever, per scope,
 * month, threshold and audience, from inside the step that moved the counter.
 */
export interface ThresholdReached {
  eventId: string;
  scope: "tenant" | "user";
  sub: string | null;
  month: string;
  threshold: number;
  audience: "tenant" | "operator";
  usedUnits: number;
  limitUnits: number;
}

export interface MonthTotals {
  scope: string;
  usedUnits: number;
  reservedUnits: number;
}

export class QuotaCounters {
  /** Thresholds known to be reported already (scope, month, threshold, audience): skips their insert. */
  private readonly reported = new Set<string>();
  /** Each scope's rate window, in memory (./recent.ts). */
  private readonly recent = new RecentAdmissions((key, after, upTo) => this.admissionTimes(key, after, upTo));

  constructor(
    private readonly sql: SqlStorage,
    /** Told of each threshold reached, inside the same step (the caller writes its event there). */
    private readonly onThreshold: (reached: ThresholdReached) => void = () => {},
  ) {}

  /**
   * What admission needs of a scope at `now`, reading no more than its `limits` require: nothing of the
   * rate window without a rate limit and at most limit + 1 admissions with one; the open-task counter;
   * and the first expected end of a running task only when no slot would be left after this request.
   */
  admissionState(scope: Scope, sub: string | null, now: number, limits: QuotaLimits): ScopeState {
    const who = scope === "tenant" ? null : sub;
    const rpm = limits.requests_per_minute;
    const max = limits.max_concurrent_tasks;
    const active = max === undefined ? 0 : this.openCount(who);
    return {
      window: rpm === undefined ? EMPTY_WINDOW : this.window(who, now, rpm),
      active,
      // It only feeds the concurrency Retry-After: of a refusal (active ≥ max), or of the RateLimit field
      // once this admission takes the last slot (active + 1 = max).
      nextEndAt: max !== undefined && active + 1 >= max ? this.nextExpectedEnd(who) : null,
      ...this.monthUnits(who, now),
    };
  }

  /**
   * Everything GET /v1/usage shows of a scope: the whole window counted, and the first expected end when
   * the concurrency limit is reached (always, when `limits` are not given).
   */
  reportState(scope: Scope, sub: string | null, now: number, limits?: QuotaLimits): ScopeState {
    const who = scope === "tenant" ? null : sub;
    const active = this.openCount(who);
    const max = limits?.max_concurrent_tasks;
    const ends = limits === undefined || (max !== undefined && active >= max);
    return {
      window: this.window(who, now, null),
      active,
      nextEndAt: ends ? this.nextExpectedEnd(who) : null,
      ...this.monthUnits(who, now),
    };
  }

  /**
   * Holds `credits` for a new task (tenant and user rows of its creation month). `limits` are what admission
   * applied: the rows remember the monthly limit and alert thresholds, for the changes that follow.
   */
  reserve(task: Entry, credits: number, limits?: ScopeLimits): void {
    this.recent.admitted(scopesOf(task.sub), task.createdAt);
    this.add(task, 0, toUnits(credits), limits);
  }

  /** The task's reservation changed (the upstream reserved more than the estimate). */
  adjust(task: Entry, from: number, to: number): void {
    this.add(task, 0, toUnits(to) - toUnits(from));
  }

  /** The task never reached the upstream, or the upstream charged nothing: its reservation goes. */
  release(task: Entry, reserved: number): void {
    // An aborted task leaves the rate window: its scopes' windows are read again.
    this.recent.forget(scopesOf(task.sub));
    this.add(task, 0, -toUnits(reserved));
  }

  /** A step that may have admitted rolled back, or the object was wiped: every window is read again. */
  forgetWindows(): void {
    this.recent.forget();
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

  private monthUnits(sub: string | null, now: number): { usedUnits: number; reservedUnits: number } {
    const row = this.sql
      .exec<{ used: number; reserved: number }>(
        "SELECT used, reserved FROM quota_months WHERE scope = ? AND month = ?",
        scopeKey(sub),
        monthOf(now),
      )
      .toArray()[0];
    return { usedUnits: row?.used ?? 0, reservedUnits: row?.reserved ?? 0 };
  }

  /** Tasks not ended (including those still `creating`): the trigger-kept counter. */
  private openCount(sub: string | null): number {
    const row = this.sql
      .exec<{ open: number }>("SELECT open FROM quota_open WHERE scope = ?", scopeKey(sub))
      .toArray()[0];
    return row?.open ?? 0;
  }

  // Reads of the tasks table (src/tasks/table.ts); a scope is the whole tenant (`sub` null) or one user.

  /**
   * The rate window ending at `now`: the admissions created after now − RATE_WINDOW_MS. Kept in memory per
   * scope (./recent.ts: no read once a scope is kept), or counted on the table for a scope over its limit.
   */
  private window(sub: string | null, now: number, limit: number | null): RateWindow {
    return this.recent.window(scopeKey(sub), now, limit) ?? this.countWindow(sub, now, limit);
  }

  /**
   * The creation times of the admissions (aborted ones excepted) of scope `key` after `after`, ascending,
   * or null when there are more than `upTo`: a window's first read since the object started (or since the
   * scope was forgotten), newest first on the `tasks_created` / `tasks_sub_created` index.
   */
  private admissionTimes(key: string, after: number, upTo: number | null): number[] | null {
    const newest =
      key === "tenant"
        ? this.sql.exec<{ t: number }>(
            `SELECT created_at AS t FROM tasks WHERE created_at > ? AND state != 'aborted'
             ORDER BY created_at DESC LIMIT ?`,
            after,
            upTo ?? -1,
          )
        : this.sql.exec<{ t: number }>(
            `SELECT created_at AS t FROM tasks WHERE sub = ? AND created_at > ? AND state != 'aborted'
             ORDER BY created_at DESC LIMIT ?`,
            key.slice("user:".length),
            after,
            upTo ?? -1,
          );
    const times = newest.toArray().map((r) => r.t);
    return upTo !== null && times.length >= upTo ? null : times.reverse();
  }

  /**
   * The rate window ending at `now`, counted on the table: tasks created after now − RATE_WINDOW_MS, aborted
   * ones excepted (as everywhere in this store, a task dated after `now` counts too). Counted without
   * reading a task row: all admissions on the covering `tasks_created` / `tasks_sub_created` index, minus
   * the aborted ones on their partial index. With a `limit`, counting stops at limit + 1, and the limit-th
   * newest is looked up only when the window is over it: O(limit + the window's aborted admissions). Used
   * for a scope over its limit, which the in-memory windows do not keep.
   */
  private countWindow(sub: string | null, now: number, limit: number | null): RateWindow {
    const [where, args] =
      sub === null
        ? ["created_at > ?", [now - RATE_WINDOW_MS]]
        : ["sub = ? AND created_at > ?", [sub, now - RATE_WINDOW_MS]];
    const aborted = this.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM tasks WHERE ${where} AND state = 'aborted'`, ...args)
      .one().n;
    const upTo = limit === null ? -1 : limit + 1 + aborted; // LIMIT -1: no limit
    const all = this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks WHERE ${where} LIMIT ?)`,
        ...args,
        upTo,
      )
      .one().n;
    const count = all - aborted;
    if (count === 0) return EMPTY_WINDOW;
    const admitted = `SELECT created_at AS t FROM tasks WHERE ${where} AND state != 'aborted' ORDER BY created_at`;
    const oldest = this.sql.exec<{ t: number }>(`${admitted} LIMIT 1`, ...args).one().t;
    const over = limit !== null && count > limit;
    const freesSlot = over
      ? this.sql.exec<{ t: number }>(`${admitted} DESC LIMIT 1 OFFSET ?`, ...args, limit - 1).one().t
      : null;
    return { count, oldest, freesSlot };
  }

  /** The earliest expected end of an open task: creation + the upstream's estimated_time (or the default). */
  private nextExpectedEnd(sub: string | null): number | null {
    const expected = `MIN(created_at + COALESCE(json_extract(snapshot, '$.task_info.estimated_time'), ?) * 1000)`;
    const row =
      sub === null
        ? this.sql
            .exec<{ t: number | null }>(
              `SELECT ${expected} AS t FROM tasks WHERE ended_at IS NULL`,
              DEFAULT_TASK_SECONDS,
            )
            .one()
        : this.sql
            .exec<{ t: number | null }>(
              `SELECT ${expected} AS t FROM tasks WHERE sub = ? AND ended_at IS NULL`,
              DEFAULT_TASK_SECONDS,
              sub,
            )
            .one();
    return row.t;
  }

  private add(task: Entry, usedUnits: number, reservedUnits: number, limits?: ScopeLimits): void {
    if (usedUnits === 0 && reservedUnits === 0) return;
    const month = monthOf(task.createdAt);
    const scopes: ["tenant" | "user", QuotaLimits | undefined][] = [["tenant", limits?.tenant]];
    if (task.sub !== null) scopes.push(["user", limits?.user]);
    for (const [scope, own] of scopes) {
      const key = scope === "tenant" ? "tenant" : scopeKey(task.sub);
      const limit = own?.monthly_credits === undefined ? null : toUnits(own.monthly_credits);
      const alerts = JSON.stringify(own?.alert_thresholds ?? DEFAULT_ALERT_THRESHOLDS);
      // Without `limits` (attach, abort, settlement) the row keeps what admission last stored.
      const row = this.sql
        .exec<{ used: number; reserved: number; limit_units: number | null; alerts: string | null }>(
          `INSERT INTO quota_months (scope, month, used, reserved, limit_units, alerts) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (scope, month) DO UPDATE SET used = used + excluded.used,
             reserved = reserved + excluded.reserved,
             limit_units = IIF(?, excluded.limit_units, limit_units), alerts = IIF(?, excluded.alerts, alerts)
           RETURNING used, reserved, limit_units, alerts`,
          key,
          month,
          usedUnits,
          reservedUnits,
          limit,
          limits ? alerts : null,
          limits ? 1 : 0,
          limits ? 1 : 0,
        )
        .one();
      if (usedUnits + reservedUnits > 0) this.reach(scope, task.sub, month, row);
    }
  }

  /** After an increase: each threshold the row's total has reached and that is not yet reported. */
  private reach(
    scope: "tenant" | "user",
    sub: string | null,
    month: string,
    row: { used: number; reserved: number; limit_units: number | null; alerts: string | null },
  ): void {
    const limit = row.limit_units;
    if (limit === null || limit <= 0) return;
    const total = row.used + row.reserved;
    const thresholds = row.alerts ? (JSON.parse(row.alerts) as number[]) : DEFAULT_ALERT_THRESHOLDS;
    const due: [number, "tenant" | "operator"][] = thresholds.map((t) => [t, "tenant"]);
    if (scope === "tenant") due.push([100, "operator"]);
    const key = scope === "tenant" ? "tenant" : scopeKey(sub);
    for (const [threshold, audience] of due) {
      // Compared in integers: total / limit ≥ threshold / 100.
      if (total * 100 < limit * threshold) continue;
      const memo = `${key}\n${month}\n${threshold}\n${audience}`;
      if (this.reported.has(memo)) continue;
      const eventId = `msg_q${base32(randomBytes(15))}`;
      const inserted = this.sql
        .exec(
          `INSERT INTO quota_alerts (scope, month, threshold, audience, event_id, at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING RETURNING 1`,
          key,
          month,
          threshold,
          audience,
          eventId,
          Date.now(),
        )
        .toArray().length;
      // Remembered only once it is known to be stored: a step that rolls back must not hide it.
      if (!inserted) {
        this.reported.add(memo);
        continue;
      }
      // A month's alerts matter until no task of it can move its counter: gone two months later.
      this.sql.exec("DELETE FROM quota_alerts WHERE month < ?", monthsBefore(month, 2));
      this.onThreshold({
        eventId,
        scope,
        sub,
        month,
        threshold,
        audience,
        usedUnits: total,
        limitUnits: limit,
      });
    }
  }
}

/** The counters' row keys a task counts in: the tenant's, and its user's. */
function scopesOf(sub: string | null): string[] {
  return sub === null ? ["tenant"] : ["tenant", scopeKey(sub)];
}

/** The month `n` months before `month` (`YYYY-MM`). */
function monthsBefore(month: string, n: number): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1));
}
