// The operator's own EvoLink balance, watched from the Registry (docs/operations.md, "The operator's
// account"): every tenant object reports its open reserved credits here (one row per tenant incarnation),
// the Registry's alarm reads the balance at most every UPSTREAM_CREDITS_CHECK_SECONDS while anything
// happens, and `upstream.credits_low` goes out once per crossing — when the balance falls under
// UPSTREAM_CREDITS_ALERT or under the open reservations — and again only after it was back above both.
// The low state is stored, so a restarted object does not fire again for the same crossing.
import type { Config } from "../config/env";
import { eventMessage, type WebhookMessage } from "../callbacks/message";
import { REGISTRY_EVENTS } from "../callbacks/owner";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/log";
import { fromUnits, toUnits } from "../quota/arithmetic";
import type { Migration } from "../state/migrations";
import type { AlarmClock } from "../state/alarm";
import type { TenantRef } from "../state/client";
import type { UpstreamStatus } from "../tenants/registry";
import type { UpstreamCredits } from "../upstream/credits";

export const BALANCE_MIGRATIONS: readonly Migration[] = [
  {
    // `upstream_reservations`: each tenant incarnation's open reserved credits (units, src/quota/arithmetic.ts)
    // as of its object's clock `at`. `upstream_balance`: one row, the last read and the alert's state;
    // `due_at` is when the alarm reads next (NULL: nothing happened since the last read, so it sleeps),
    // `active` says something happened since then.
    name: "balance/1",
    sql: `CREATE TABLE upstream_reservations (
       tenant_id TEXT NOT NULL,
       incarnation TEXT NOT NULL,
       units INTEGER NOT NULL,
       at INTEGER NOT NULL,
       PRIMARY KEY (tenant_id, incarnation)
     );
     CREATE TABLE upstream_balance (
       one INTEGER PRIMARY KEY CHECK (one = 1),
       remaining REAL,
       used REAL,
       read_at INTEGER,
       error_code TEXT,
       error_at INTEGER,
       low INTEGER NOT NULL DEFAULT 0,
       low_since INTEGER,
       due_at INTEGER,
       active INTEGER NOT NULL DEFAULT 0
     );
     INSERT INTO upstream_balance (one) VALUES (1);`,
  },
];

export type LowReason = "below_alert" | "below_reservations";

/**
 * Why the balance is low now, or null when it is above both lines: under the configured alert, or under the
 * credits that tasks in flight may still draw.
 */
export function lowReason(
  remaining: number,
  openReservations: number,
  alertBelow: number | null,
): LowReason | null {
  if (alertBelow !== null && remaining < alertBelow) return "below_alert";
  if (remaining < openReservations) return "below_reservations";
  return null;
}

interface State {
  remaining: number | null;
  used: number | null;
  read_at: number | null;
  error_code: string | null;
  error_at: number | null;
  low: number;
  low_since: number | null;
  due_at: number | null;
  active: number;
  [k: string]: SqlStorageValue;
}

/** What a read needs from the Registry: its config, a logger, the reader, and the outbox to emit into. */
export interface BalanceDeps {
  config: Config;
  log: Logger;
  read: () => Promise<UpstreamCredits>;
  emit: (message: WebhookMessage) => void;
  /** Runs `fn` as one storage transaction (the alarm clock's, so an armed time rolls back with it). */
  transaction: <T>(fn: () => T) => T;
}

export class BalanceWatch {
  constructor(
    private readonly sql: SqlStorage,
    private readonly alarm: Pick<AlarmClock, "armBy">,
  ) {}

  /** A tenant incarnation's report; an older one than the row's (by its object's clock) changes nothing. */
  report(tenant: TenantRef, credits: number, at: number): void {
    this.sql.exec(
      `INSERT INTO upstream_reservations (tenant_id, incarnation, units, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, incarnation) DO UPDATE SET units = excluded.units, at = excluded.at
         WHERE excluded.at >= upstream_reservations.at`,
      tenant.id,
      tenant.incarnation,
      toUnits(Math.max(0, credits)),
      at,
    );
  }

  /** The tenant's rows go with it (every incarnation: only the current one can report). */
  forget(tenantId: string): void {
    this.sql.exec("DELETE FROM upstream_reservations WHERE tenant_id = ?", tenantId);
  }

  /** The open reserved credits across tenants, as last reported. */
  openReservations(): number {
    const units = this.sql
      .exec<{ units: number }>("SELECT COALESCE(SUM(units), 0) AS units FROM upstream_reservations")
      .one().units;
    return fromUnits(units);
  }

  /**
   * Something happened (a report, an admin read): the alarm reads the balance one interval after the last
   * read, or now when that is past; never read yet, one interval from now (GET /admin/upstream?refresh=1
   * reads at once). Synchronous: commits with the report that caused it.
   */
  touch(now: number, checkMs: number): void {
    const s = this.state();
    let due = s.due_at;
    if (due === null) due = s.read_at === null ? now + checkMs : Math.max(now, s.read_at + checkMs);
    this.sql.exec("UPDATE upstream_balance SET active = 1, due_at = ? WHERE one = 1", due);
    this.alarm.armBy(due);
  }

  /** When the alarm next reads the balance (null: it sleeps until something happens). */
  due(): number | null {
    return this.state().due_at;
  }

  /** Alarm step: reads the balance when due; returns when it is due next. */
  async step(now: number, deps: BalanceDeps): Promise<number | null> {
    const due = this.due();
    if (due === null || due > now) return due;
    await this.check(deps);
    return this.due();
  }

  /**
   * Reads the balance now and judges it: stores the answer (or the error) and fires or re-arms the alert.
   * The next read is one interval later if something happened since the last read or tasks are in flight;
   * otherwise the alarm sleeps until the next report.
   */
  async check(deps: BalanceDeps): Promise<void> {
    const checkMs = deps.config.upstreamCreditsCheckSeconds * 1000;
    // Cleared before the read, so a report arriving while it runs counts for the next one.
    const wasActive = this.state().active === 1;
    this.sql.exec("UPDATE upstream_balance SET active = 0 WHERE one = 1");
    let read: UpstreamCredits | ApiError;
    try {
      read = await deps.read();
    } catch (err) {
      read = err instanceof ApiError ? err : new ApiError("internal_error", String(err));
    }
    const now = Date.now();
    deps.transaction(() => {
      const open = this.openReservations();
      const s = this.state();
      const next = wasActive || s.active === 1 || open > 0 ? now + checkMs : null;
      this.sql.exec("UPDATE upstream_balance SET due_at = ? WHERE one = 1", next);
      if (next !== null) this.alarm.armBy(next);
      if (read instanceof ApiError) {
        this.sql.exec(
          "UPDATE upstream_balance SET error_code = ?, error_at = ? WHERE one = 1",
          read.code,
          now,
        );
        deps.log.warn("upstream_credits_read_failed", { code: read.code, error: read.message });
        return;
      }
      this.judge(s, read, open, now, deps);
    });
  }

  /** GET /admin/upstream's body. */
  status(config: Config): UpstreamStatus {
    const s = this.state();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      balance:
        s.read_at === null
          ? null
          : { remaining_credits: s.remaining, used_credits: s.used ?? 0, read_at: iso(s.read_at)! },
      open_reservations: this.openReservations(),
      alert: { below: config.upstreamCreditsAlert, low: s.low === 1, since: iso(s.low_since) },
      check_every_seconds: config.upstreamCreditsCheckSeconds,
      last_error: s.error_code === null ? null : { code: s.error_code, at: iso(s.error_at)! },
    };
  }

  /** Stores a read and moves the alert: fires on the way down, logs the recovery on the way back up. */
  private judge(s: State, read: UpstreamCredits, open: number, now: number, deps: BalanceDeps): void {
    const alertBelow = deps.config.upstreamCreditsAlert;
    const reason = lowReason(read.remaining, open, alertBelow);
    const wasLow = s.low === 1;
    const low = reason !== null;
    this.sql.exec(
      `UPDATE upstream_balance SET remaining = ?, used = ?, read_at = ?, error_code = NULL, error_at = NULL,
         low = ?, low_since = ? WHERE one = 1`,
      read.remaining,
      read.used,
      now,
      low ? 1 : 0,
      low ? (wasLow ? s.low_since : now) : null,
    );
    const fields = {
      remaining: read.remaining,
      used: read.used,
      open_reservations: open,
      alert_below: alertBelow,
    };
    if (low && !wasLow) {
      const message = eventMessage(
        REGISTRY_EVENTS,
        { id: `msg_credits_low_${now}`, type: "upstream.credits_low", audience: "operator" },
        { ...fields, reason },
        now,
      );
      deps.emit({ ...message, origin: "registry" });
    } else if (!low && wasLow) deps.log.info("upstream_credits_recovered", fields);
  }

  private state(): State {
    return this.sql.exec<State>("SELECT * FROM upstream_balance WHERE one = 1").one();
  }
}
