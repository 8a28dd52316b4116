// The tasks table of a tenant's Durable Object: plain synchronous SQL over the object's SQLite, so the
// Durable Object can combine it with quota and callback bookkeeping in one atomic step (no await between).
// Triggers from migration "quota/2" (src/quota/migrations.ts) count the open tasks (`ended_at IS NULL`) per
// scope as rows change: whatever sets or clears `ended_at` here is counted there, with no call to make.
import type { Migration } from "../state/migrations";
import { TERMINAL_STATUSES, type TaskStatus, type UpstreamTask } from "../upstream/schema";

export const TASK_MIGRATIONS: readonly Migration[] = [
  {
    name: "tasks/1",
    sql: `CREATE TABLE tasks (
       id TEXT PRIMARY KEY,
       sub TEXT,
       upstream_id TEXT,
       state TEXT NOT NULL,
       model TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL,
       ended_at INTEGER,
       callback_url TEXT,
       estimate REAL NOT NULL,
       reserved REAL NOT NULL,
       charged REAL,
       snapshot TEXT
     );
     CREATE INDEX tasks_upstream ON tasks (upstream_id);
     CREATE INDEX tasks_open ON tasks (ended_at, created_at);`,
  },
  {
    // Quotas: which store held the task's counters (unused since QUOTA_STORE=kv was retired), when its end
    // reached KV, and the indexes that count a scope's admissions in the rate window and its tasks in flight.
    name: "tasks/2",
    sql: `ALTER TABLE tasks ADD COLUMN quota_store TEXT NOT NULL DEFAULT 'durable_object';
     ALTER TABLE tasks ADD COLUMN kv_synced_at INTEGER;
     CREATE INDEX tasks_created ON tasks (created_at);
     CREATE INDEX tasks_sub_created ON tasks (sub, created_at);
     CREATE INDEX tasks_sub_open ON tasks (sub, ended_at);
     CREATE INDEX tasks_unsynced ON tasks (kv_synced_at, ended_at);`,
  },
  {
    // The id the tenant sees (src/tasks/ids.ts), minted once the upstream accepted the task; `id` stays
    // the row key that callback tokens and the outbox name.
    name: "tasks/3",
    sql: `ALTER TABLE tasks ADD COLUMN public_id TEXT;
     CREATE INDEX tasks_public ON tasks (public_id);`,
  },
  {
    // The sweeper's deadlines (src/tasks/sweeper.ts), each the first entry of a partial index (named with
    // INDEXED BY, so the planner cannot fall back to a scan), so the object's alarm finds its next wake-up
    // without scanning: the oldest silence of a task in flight, the oldest task still `creating`, the
    // oldest end already mirrored to KV (retention purge).
    name: "tasks/sweep-deadlines",
    sql: `CREATE INDEX tasks_silent ON tasks (updated_at) WHERE ended_at IS NULL AND upstream_id IS NOT NULL;
     CREATE INDEX tasks_creating ON tasks (created_at) WHERE state = 'creating';
     CREATE INDEX tasks_purgeable ON tasks (ended_at) WHERE ended_at IS NOT NULL AND kv_synced_at IS NOT NULL;`,
  },
  {
    // Kept results (src/results): the days a task's results are kept after its end, fixed when it is
    // created (the tenant's `results.retention_days` then); 0 passes the upstream's links through. Tasks
    // created before this step keep 0.
    name: "tasks/retention",
    sql: `ALTER TABLE tasks ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;`,
  },
];

/**
 * `deleted`: the tenant deleted the ended task (DELETE /v1/tasks/{id}); the row keeps only its accounting
 * (times, credits) for the ledger until the 90-day purge, and answers 404 everywhere a tenant looks.
 */
export type TaskState = "creating" | "aborted" | "deleted" | TaskStatus;

export interface TaskRecord {
  /** The row key (`newRowId()`), internal: callback tokens name it. */
  id: string;
  /** The id the tenant sees (an envelope, src/tasks/ids.ts); null until the upstream accepted the task. */
  publicId: string | null;
  sub: string | null;
  upstreamId: string | null;
  state: TaskState;
  model: string;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  /** The tenant's own callback_url, kept by the gateway (the upstream gets the gateway's). */
  callbackUrl: string | null;
  estimate: number;
  /** Credits held for the task: max(estimate, upstream credits_reserved). Kept after settlement. */
  reserved: number;
  /** Credits settled when the task ended (0 for failed, cancelled, aborted); null while it runs. */
  charged: number | null;
  /** The last upstream task object seen, as JSON, for serving ended tasks without asking upstream. */
  snapshot: string | null;
  /** When the task's end was mirrored to KV (the per-task ledger entry). */
  kvSyncedAt: number | null;
  /** Days its results are kept after its end (src/results); 0: the upstream's links pass through. */
  retentionDays: number;
}

export interface NewTask {
  id: string;
  sub: string | null;
  model: string;
  createdAt: number;
  callbackUrl: string | null;
  estimate: number;
  /** Credits held for the task until it ends (raised to the upstream's reservation on attach). */
  reserved: number;
  /** Days its results are kept after its end (the tenant's `results.retention_days` at creation). */
  retentionDays: number;
}

type Row = Record<string, SqlStorageValue>;

function toRecord(r: Row): TaskRecord {
  return {
    id: r.id as string,
    publicId: (r.public_id as string | null) ?? null,
    sub: (r.sub as string | null) ?? null,
    upstreamId: (r.upstream_id as string | null) ?? null,
    state: r.state as TaskState,
    model: r.model as string,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    endedAt: (r.ended_at as number | null) ?? null,
    callbackUrl: (r.callback_url as string | null) ?? null,
    estimate: r.estimate as number,
    reserved: r.reserved as number,
    charged: (r.charged as number | null) ?? null,
    snapshot: (r.snapshot as string | null) ?? null,
    kvSyncedAt: (r.kv_synced_at as number | null) ?? null,
    retentionDays: (r.retention_days as number | null) ?? 0,
  };
}

export class TaskTable {
  constructor(private readonly sql: SqlStorage) {}

  insert(task: NewTask): void {
    this.sql.exec(
      `INSERT INTO tasks (id, sub, state, model, created_at, updated_at, callback_url, estimate, reserved,
         retention_days)
       VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?)`,
      task.id,
      task.sub,
      task.model,
      task.createdAt,
      task.createdAt,
      task.callbackUrl,
      task.estimate,
      task.reserved,
      task.retentionDays,
    );
  }

  /**
   * Restarts an aborted task for a retry of the same idempotent request, so the retry forwards the same
   * body (same callback URL) under the same upstream idempotency key. Returns false if it was not aborted.
   */
  revive(task: NewTask): boolean {
    const cursor = this.sql.exec(
      `UPDATE tasks SET state = 'creating', created_at = ?, updated_at = ?, ended_at = NULL, estimate = ?,
         reserved = ?, charged = NULL, kv_synced_at = NULL, snapshot = NULL
       WHERE id = ? AND state = 'aborted'`,
      task.createdAt,
      task.createdAt,
      task.estimate,
      task.reserved,
      task.id,
    );
    return cursor.rowsWritten > 0;
  }

  get(id: string): TaskRecord | null {
    const row = this.sql.exec<Row>("SELECT * FROM tasks WHERE id = ?", id).toArray()[0];
    return row ? toRecord(row) : null;
  }

  /** The task a tenant knows by `publicId` (delivery records and operators name tasks so). */
  getByPublicId(publicId: string): TaskRecord | null {
    const row = this.sql.exec<Row>("SELECT * FROM tasks WHERE public_id = ?", publicId).toArray()[0];
    return row ? toRecord(row) : null;
  }

  /**
   * Binds the upstream's id, the public id and the first state to a task still `creating`. Returns false
   * otherwise.
   */
  attach(id: string, publicId: string, upstream: UpstreamTask, reserved: number, now: number): boolean {
    const state = TERMINAL_STATUSES.has(upstream.status) ? "processing" : upstream.status;
    const cursor = this.sql.exec(
      `UPDATE tasks SET upstream_id = ?, public_id = ?, state = ?, updated_at = ?, snapshot = ?, reserved = ?
       WHERE id = ? AND state = 'creating'`,
      upstream.id,
      publicId,
      state,
      now,
      JSON.stringify(upstream),
      reserved,
      id,
    );
    return cursor.rowsWritten > 0;
  }

  /** Marks a task that never reached the upstream as aborted. Returns false if it was not `creating`. */
  abort(id: string, now: number): boolean {
    const cursor = this.sql.exec(
      `UPDATE tasks SET state = 'aborted', updated_at = ?, ended_at = ?, charged = 0
       WHERE id = ? AND state = 'creating'`,
      now,
      now,
      id,
    );
    return cursor.rowsWritten > 0;
  }

  /** Records an upstream report. Returns true when this report is the task's first end. */
  record(id: string, upstream: UpstreamTask, now: number): boolean {
    const ended = TERMINAL_STATUSES.has(upstream.status);
    const cursor = this.sql.exec(
      `UPDATE tasks SET state = ?, updated_at = ?, ended_at = ?, snapshot = ?
       WHERE id = ? AND ended_at IS NULL AND upstream_id = ?`,
      upstream.status,
      now,
      ended ? now : null,
      JSON.stringify(upstream),
      id,
      upstream.id,
    );
    return ended && cursor.rowsWritten > 0;
  }

  /**
   * The tenant deleted an ended task: what it showed (its snapshot, its callback URL) is erased, its
   * accounting stays for the ledger. Returns false unless the task had ended (and was not deleted already).
   */
  markDeleted(id: string, now: number): boolean {
    const cursor = this.sql.exec(
      `UPDATE tasks SET state = 'deleted', snapshot = NULL, callback_url = NULL, updated_at = ?
       WHERE id = ? AND ended_at IS NOT NULL AND state NOT IN ('deleted', 'aborted')`,
      now,
      id,
    );
    return cursor.rowsWritten > 0;
  }

  /** Sets the final charge of an ended task (quota settlement); `reserved` stays for the ledger. */
  setCharged(id: string, charged: number, now: number): void {
    this.sql.exec("UPDATE tasks SET charged = ?, updated_at = ? WHERE id = ?", charged, now, id);
  }

  /**
   * Tasks in flight (upstream id known, not ended) created before `createdBefore` and not updated since
   * `updatedBefore`, least recently heard of first, so a sweep rotates through them.
   */
  silentInFlight(createdBefore: number, updatedBefore: number, limit: number): TaskRecord[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM tasks INDEXED BY tasks_silent
         WHERE ended_at IS NULL AND upstream_id IS NOT NULL AND created_at < ? AND updated_at < ?
         ORDER BY updated_at LIMIT ?`,
        createdBefore,
        updatedBefore,
        limit,
      )
      .toArray()
      .map(toRecord);
  }

  /**
   * Deletes tasks that ended before `before` and whose end already reached the KV ledger (so the operator's
   * per-task record outlives them). Month totals and open-task counters live in their own tables and are
   * unaffected (only ended tasks go).
   */
  purgeEnded(before: number, limit: number): number {
    return this.sql.exec(
      `DELETE FROM tasks WHERE id IN (
         SELECT id FROM tasks INDEXED BY tasks_purgeable
         WHERE ended_at IS NOT NULL AND ended_at < ? AND kv_synced_at IS NOT NULL LIMIT ?)`,
      before,
      limit,
    ).rowsWritten;
  }

  /** Tasks stuck in `creating` (the Worker died mid-create) since before `before`. */
  stuckCreating(before: number, limit: number): TaskRecord[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM tasks INDEXED BY tasks_creating WHERE state = 'creating' AND created_at < ? LIMIT ?`,
        before,
        limit,
      )
      .toArray()
      .map(toRecord);
  }

  /** `updated_at` of the task in flight heard of least recently (index `tasks_silent`), or null. */
  oldestSilent(): number | null {
    return this.first(
      `SELECT updated_at AS t FROM tasks INDEXED BY tasks_silent
       WHERE ended_at IS NULL AND upstream_id IS NOT NULL ORDER BY updated_at LIMIT 1`,
    );
  }

  /** `created_at` of the oldest task still `creating` (index `tasks_creating`), or null. */
  oldestCreating(): number | null {
    return this.first(
      `SELECT created_at AS t FROM tasks INDEXED BY tasks_creating WHERE state = 'creating'
       ORDER BY created_at LIMIT 1`,
    );
  }

  /** `ended_at` of the oldest ended task whose end reached KV (index `tasks_purgeable`), or null. */
  oldestPurgeable(): number | null {
    return this.first(
      `SELECT ended_at AS t FROM tasks INDEXED BY tasks_purgeable
       WHERE ended_at IS NOT NULL AND kv_synced_at IS NOT NULL ORDER BY ended_at LIMIT 1`,
    );
  }

  private first(query: string): number | null {
    const row = this.sql.exec<{ t: number }>(query).toArray()[0];
    return row ? row.t : null;
  }

  /** Ended tasks whose end has not reached KV yet, oldest end first. */
  unsynced(limit: number): TaskRecord[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM tasks WHERE kv_synced_at IS NULL AND ended_at IS NOT NULL ORDER BY ended_at LIMIT ?`,
        limit,
      )
      .toArray()
      .map(toRecord);
  }

  markSynced(id: string, now: number): void {
    this.sql.exec("UPDATE tasks SET kv_synced_at = ? WHERE id = ?", now, id);
  }

  /** A page of the tasks created in [from, to), by creation time then id, after the cursor. */
  createdBetween(
    from: number,
    to: number,
    after: { createdAt: number; id: string } | null,
    limit: number,
  ): TaskRecord[] {
    const cursor = after ?? { createdAt: from - 1, id: "" };
    return this.sql
      .exec<Row>(
        `SELECT * FROM tasks WHERE created_at >= ? AND created_at < ?
           AND (created_at > ? OR (created_at = ? AND id > ?))
         ORDER BY created_at, id LIMIT ?`,
        from,
        to,
        cursor.createdAt,
        cursor.createdAt,
        cursor.id,
        limit,
      )
      .toArray()
      .map(toRecord);
  }
}
