// The quota concern's tables in the tenant's Durable Object (see docs/storage-schema.md): the credit
// counters per scope and month, the Idempotency-Key records, and what keeps admission's reads bounded by a
// scope's limits rather than by the tenant's history. Append new steps; never edit a shipped one.
import type { Migration } from "../state/migrations";

export const QUOTA_MIGRATIONS: readonly Migration[] = [
  {
    name: "quota/1",
    sql: `CREATE TABLE quota_months (
       scope TEXT NOT NULL,
       month TEXT NOT NULL,
       used INTEGER NOT NULL DEFAULT 0,
       reserved INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (scope, month)
     );
     CREATE TABLE idempotency (
       scope TEXT NOT NULL,
       key TEXT NOT NULL,
       request_hash TEXT NOT NULL,
       state TEXT NOT NULL,
       task_id TEXT NOT NULL,
       status INTEGER,
       response TEXT,
       created_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL,
       PRIMARY KEY (scope, key)
     );
     CREATE INDEX idempotency_task ON idempotency (task_id);
     CREATE INDEX idempotency_expiry ON idempotency (expires_at);`,
  },
  {
    // `quota_open`: tasks in flight per scope (`tenant`, and `user:` + sub while that user has any), kept by
    // triggers inside the very statement that opens or closes a task (insert, revive, abort, end, delete),
    // so it equals COUNT(*) over the open tasks without counting them; backfilled for existing objects.
    // The partial indexes hold only aborted tasks: the rate window counts the admissions in it from the
    // covering `tasks_created` / `tasks_sub_created` indexes and subtracts these (src/quota/counters.ts).
    name: "quota/2",
    sql: `CREATE TABLE quota_open (scope TEXT PRIMARY KEY, open INTEGER NOT NULL);
     INSERT INTO quota_open (scope, open) SELECT 'tenant', COUNT(*) FROM tasks WHERE ended_at IS NULL;
     INSERT INTO quota_open (scope, open)
       SELECT 'user:' || sub, COUNT(*) FROM tasks WHERE ended_at IS NULL AND sub IS NOT NULL GROUP BY sub;
     CREATE TRIGGER quota_open_insert AFTER INSERT ON tasks WHEN NEW.ended_at IS NULL BEGIN
       UPDATE quota_open SET open = open + 1 WHERE scope = 'tenant';
       INSERT INTO quota_open (scope, open) SELECT 'user:' || NEW.sub, 1 WHERE NEW.sub IS NOT NULL
         ON CONFLICT (scope) DO UPDATE SET open = open + 1;
     END;
     CREATE TRIGGER quota_open_enter AFTER UPDATE OF ended_at, sub ON tasks
       WHEN NEW.ended_at IS NULL AND (OLD.ended_at IS NOT NULL OR NEW.sub IS NOT OLD.sub) BEGIN
       UPDATE quota_open SET open = open + 1 WHERE scope = 'tenant';
       INSERT INTO quota_open (scope, open) SELECT 'user:' || NEW.sub, 1 WHERE NEW.sub IS NOT NULL
         ON CONFLICT (scope) DO UPDATE SET open = open + 1;
     END;
     CREATE TRIGGER quota_open_leave AFTER UPDATE OF ended_at, sub ON tasks
       WHEN OLD.ended_at IS NULL AND (NEW.ended_at IS NOT NULL OR NEW.sub IS NOT OLD.sub) BEGIN
       UPDATE quota_open SET open = open - 1 WHERE scope IN ('tenant', 'user:' || OLD.sub);
       DELETE FROM quota_open WHERE scope = 'user:' || OLD.sub AND open = 0;
     END;
     CREATE TRIGGER quota_open_delete AFTER DELETE ON tasks WHEN OLD.ended_at IS NULL BEGIN
       UPDATE quota_open SET open = open - 1 WHERE scope IN ('tenant', 'user:' || OLD.sub);
       DELETE FROM quota_open WHERE scope = 'user:' || OLD.sub AND open = 0;
     END;
     CREATE INDEX tasks_aborted ON tasks (created_at) WHERE state = 'aborted';
     CREATE INDEX tasks_sub_aborted ON tasks (sub, created_at) WHERE state = 'aborted';`,
  },
  {
    // Alerts before the wall (docs/quotas.md): each scope's month row remembers the monthly limit and the
    // alert thresholds admission last applied to it (in units; NULL: no monthly limit), so a later change of
    // the counter (attach, settlement) is judged against them too; `quota_alerts` holds each threshold
    // reached, once per scope, month, threshold and audience — its primary key is what makes it once.
    name: "quota/alerts",
    sql: `ALTER TABLE quota_months ADD COLUMN limit_units INTEGER;
     ALTER TABLE quota_months ADD COLUMN alerts TEXT;
     CREATE TABLE quota_alerts (
       scope TEXT NOT NULL,
       month TEXT NOT NULL,
       threshold INTEGER NOT NULL,
       audience TEXT NOT NULL,
       event_id TEXT NOT NULL,
       at INTEGER NOT NULL,
       PRIMARY KEY (scope, month, threshold, audience)
     );
     CREATE INDEX quota_alerts_month ON quota_alerts (month);`,
  },
];
