// The callback relay's tables in the tenant's Durable Object (see docs/storage-schema.md): the outbox of
// task-ended events not yet settled by the WEBHOOKS consumer, and the record of every delivery attempt.
import type { Migration } from "../state/migrations";

export const CALLBACK_MIGRATIONS: readonly Migration[] = [
  {
    name: "callbacks/1",
    sql: `CREATE TABLE webhook_outbox (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       event_id TEXT NOT NULL,
       message TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       send_failures INTEGER NOT NULL DEFAULT 0,
       next_at INTEGER NOT NULL
     );
     CREATE TABLE webhook_deliveries (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       id TEXT NOT NULL UNIQUE,
       event_id TEXT NOT NULL,
       task_id TEXT NOT NULL,
       attempt INTEGER,
       at INTEGER NOT NULL,
       url TEXT,
       status_code INTEGER,
       latency_ms INTEGER,
       outcome TEXT NOT NULL,
       error TEXT,
       next_attempt_at INTEGER,
       redelivery INTEGER NOT NULL
     );
     CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);`,
  },
  {
    // An event stays in the outbox until the consumer records its last attempt, not only until the queue
    // took it: `sends` counts the queue sends, and the consumer's records find the row by its event id.
    name: "callbacks/2",
    sql: `ALTER TABLE webhook_outbox ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX webhook_outbox_event ON webhook_outbox (event_id);`,
  },
  {
    // Events other than a task's end (quota thresholds, the operator's events): each kept, as sent, for as
    // long as its delivery records, so a redelivery sends the same body under the same webhook-id. The
    // delivery records say which kind of event they belong to and who it went to.
    name: "callbacks/3",
    sql: `CREATE TABLE webhook_events (
       event_id TEXT PRIMARY KEY,
       message TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE INDEX webhook_events_created ON webhook_events (created_at);
     ALTER TABLE webhook_deliveries ADD COLUMN type TEXT NOT NULL DEFAULT 'task.ended';
     ALTER TABLE webhook_deliveries ADD COLUMN audience TEXT NOT NULL DEFAULT 'tenant';`,
  },
];

/**
 * Held and paced events (issue 16): `held_url` names the disabled endpoint a held event waits for (it is
 * not sent until then); `slot_at` is the send slot a throttled event was given (it is sent then without
 * being paced again). Applied after every list's other steps, in the tenant's objects and the Registry's.
 */
export const OUTBOX_HOLD_MIGRATIONS: readonly Migration[] = [
  {
    name: "callbacks/hold",
    sql: `ALTER TABLE webhook_outbox ADD COLUMN held_url TEXT;
     ALTER TABLE webhook_outbox ADD COLUMN slot_at REAL;
     CREATE INDEX webhook_outbox_held ON webhook_outbox (held_url) WHERE held_url IS NOT NULL;`,
  },
];
