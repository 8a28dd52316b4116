// The quota concern's tables in the tenant's Durable Object (see docs/storage-schema.md): the credit
// ledger per scope and month, and the Idempotency-Key records. Append new steps; never edit a shipped one.
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
];
