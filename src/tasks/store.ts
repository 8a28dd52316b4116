// The tasks table of a tenant's Durable Object: plain synchronous SQL over the object's SQLite, so the
// Durable Object can combine it with quota and callback bookkeeping in one atomic step (no await between).
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
];

export type TaskState = "creating" | "aborted" | TaskStatus;

export interface TaskRecord {
  id: string;
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
  reserved: number;
  charged: number | null;
  /** The last upstream task object seen, as JSON, for serving ended tasks without asking upstream. */
  snapshot: string | null;
}

export interface NewTask {
  id: string;
  sub: string | null;
  model: string;
  createdAt: number;
  callbackUrl: string | null;
  estimate: number;
  /** Credits held for the task until it ends (quota issue: max of estimate and upstream reservation). */
  reserved: number;
}

type Row = Record<string, SqlStorageValue>;

function toRecord(r: Row): TaskRecord {
  return {
    id: r.id as string,
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
  };
}

export class TaskStore {
  constructor(private readonly sql: SqlStorage) {}

  insert(task: NewTask): void {
    this.sql.exec(
      `INSERT INTO tasks (id, sub, state, model, created_at, updated_at, callback_url, estimate, reserved)
       VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?)`,
      task.id,
      task.sub,
      task.model,
      task.createdAt,
      task.createdAt,
      task.callbackUrl,
      task.estimate,
      task.reserved,
    );
  }

  get(id: string): TaskRecord | null {
    const row = this.sql.exec<Row>("SELECT * FROM tasks WHERE id = ?", id).toArray()[0];
    return row ? toRecord(row) : null;
  }

  /** Binds the upstream's id and first state to a task still `creating`. Returns false otherwise. */
  attach(id: string, upstream: UpstreamTask, reserved: number, now: number): boolean {
    const state = TERMINAL_STATUSES.has(upstream.status) ? "processing" : upstream.status;
    const cursor = this.sql.exec(
      `UPDATE tasks SET upstream_id = ?, state = ?, updated_at = ?, snapshot = ?, reserved = ?
       WHERE id = ? AND state = 'creating'`,
      upstream.id,
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
      `UPDATE tasks SET state = 'aborted', updated_at = ?, ended_at = ?, reserved = 0, charged = 0
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

  /** Sets the final charge of an ended task (quota settlement). */
  setCharged(id: string, charged: number, now: number): void {
    this.sql.exec(
      "UPDATE tasks SET charged = ?, reserved = 0, updated_at = ? WHERE id = ?",
      charged,
      now,
      id,
    );
  }

  /** Tasks in flight (upstream id known, not ended) created before `before`, oldest first. */
  inFlightBefore(before: number, limit: number): TaskRecord[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM tasks WHERE ended_at IS NULL AND upstream_id IS NOT NULL AND created_at < ?
         ORDER BY created_at LIMIT ?`,
        before,
        limit,
      )
      .toArray()
      .map(toRecord);
  }

  /** Tasks stuck in `creating` (the Worker died mid-create) since before `before`. */
  stuckCreating(before: number, limit: number): TaskRecord[] {
    return this.sql
      .exec<Row>(`SELECT * FROM tasks WHERE state = 'creating' AND created_at < ? LIMIT ?`, before, limit)
      .toArray()
      .map(toRecord);
  }
}
