// The task list of a tenant's Durable Object (GET /v1/tasks, GET /admin/tenants/{tenant_id}/tasks): newest first,
// filtered by user, status, model and creation time, paged EvoLink-style (page, page_size, total). Every
// query walks an index in order and stops at the page; `total` comes from trigger-kept counters, so a
// tenant with 100,000 tasks costs a page, not a scan (test/tasks/list-cost.test.ts counts the rows read).
import { TASK_LIST_COUNT_CAP } from "../config/constants";
import type { ResultState } from "../results/table";
import type { Migration } from "../state/migrations";
import { UpstreamTaskSchema, type TaskStatus } from "../upstream/schema";
import type { TaskRecord } from "./table";

/** The statuses a list shows: a task `creating` or `aborted` never existed for the tenant (GET gives 404). */
export const LISTED_STATUSES: readonly TaskStatus[] = [
  "pending",
  "processing",
  "completed",
  "failed",
  "cancelled",
];

export const TASK_LIST_MIGRATIONS: readonly Migration[] = [
  {
    // `task_counts`: tasks per scope ('' = the tenant, 'u:' + sub = one user), state and model, kept by
    // triggers in the statement that writes the task, backfilled for existing objects. The indexes let
    // each filter combination walk (…, created_at) newest first; the model filter with a status rides the
    // status index (few models, so few rows are skipped).
    name: "tasklist/1",
    sql: `CREATE TABLE task_counts (
       scope TEXT NOT NULL,
       state TEXT NOT NULL,
       model TEXT NOT NULL,
       n INTEGER NOT NULL,
       PRIMARY KEY (scope, state, model)
     );
     INSERT INTO task_counts (scope, state, model, n) SELECT '', state, model, COUNT(*) FROM tasks
       GROUP BY state, model;
     INSERT INTO task_counts (scope, state, model, n) SELECT 'u:' || sub, state, model, COUNT(*) FROM tasks
       WHERE sub IS NOT NULL GROUP BY sub, state, model;
     CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
       INSERT INTO task_counts (scope, state, model, n) VALUES ('', NEW.state, NEW.model, 1)
         ON CONFLICT (scope, state, model) DO UPDATE SET n = n + 1;
       INSERT INTO task_counts (scope, state, model, n) SELECT 'u:' || NEW.sub, NEW.state, NEW.model, 1
         WHERE NEW.sub IS NOT NULL ON CONFLICT (scope, state, model) DO UPDATE SET n = n + 1;
     END;
     CREATE TRIGGER task_counts_update AFTER UPDATE OF state, model, sub ON tasks
       WHEN NEW.state IS NOT OLD.state OR NEW.model IS NOT OLD.model OR NEW.sub IS NOT OLD.sub BEGIN
       UPDATE task_counts SET n = n - 1
         WHERE state = OLD.state AND model = OLD.model AND scope IN ('', 'u:' || OLD.sub);
       INSERT INTO task_counts (scope, state, model, n) VALUES ('', NEW.state, NEW.model, 1)
         ON CONFLICT (scope, state, model) DO UPDATE SET n = n + 1;
       INSERT INTO task_counts (scope, state, model, n) SELECT 'u:' || NEW.sub, NEW.state, NEW.model, 1
         WHERE NEW.sub IS NOT NULL ON CONFLICT (scope, state, model) DO UPDATE SET n = n + 1;
     END;
     CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
       UPDATE task_counts SET n = n - 1
         WHERE state = OLD.state AND model = OLD.model AND scope IN ('', 'u:' || OLD.sub);
     END;
     CREATE INDEX tasks_list_state ON tasks (state, created_at);
     CREATE INDEX tasks_list_sub_state ON tasks (sub, state, created_at);
     CREATE INDEX tasks_list_model ON tasks (model, created_at);
     CREATE INDEX tasks_list_sub_model ON tasks (sub, model, created_at);`,
  },
];

export interface TaskListQuery {
  /** Only this user's tasks; null = the whole tenant's. */
  sub: string | null;
  status: TaskStatus | null;
  model: string | null;
  /** Creation time range in ms: createdFrom ≤ created_at < createdTo. */
  createdFrom: number | null;
  createdTo: number | null;
  /** Rows skipped ((page − 1) × page_size) and rows returned. */
  offset: number;
  limit: number;
}

/** One task as an operator sees it in a list; the tenant's view drops `sub` and `upstream_id`. */
export interface TaskListItem {
  id: string;
  status: TaskStatus;
  model: string;
  progress: number;
  /** Unix seconds. */
  created: number;
  credits_reserved: number;
  /** Credits settled when the task ended; null while it runs. */
  credits_used: number | null;
  has_results: boolean;
  has_error: boolean;
  sub: string | null;
  upstream_id: string | null;
}

export interface TaskListPage {
  data: TaskListItem[];
  total: number;
  /** False when a creation-time range matched more than TASK_LIST_COUNT_CAP tasks (total is the cap). */
  totalExact: boolean;
}

/** The id a client knows a task by (src/tasks/ids.ts); listed tasks always have one. */
export function publicTaskId(record: Pick<TaskRecord, "id" | "publicId">): string {
  return record.publicId ?? record.id;
}

type Row = Record<string, SqlStorageValue>;

/** A page of tasks, newest first (ties: latest inserted first), and how many match. */
export function listTasks(sql: SqlStorage, q: TaskListQuery): TaskListPage {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  const filter = (clause: string, ...values: SqlStorageValue[]) => {
    where.push(clause);
    args.push(...values);
  };
  if (q.sub !== null) filter("sub = ?", q.sub);
  if (q.status !== null) filter("state = ?", q.status);
  else filter(`state IN (${LISTED_STATUSES.map(() => "?").join(", ")})`, ...LISTED_STATUSES);
  if (q.model !== null) filter("model = ?", q.model);
  if (q.createdFrom !== null) filter("created_at >= ?", q.createdFrom);
  if (q.createdTo !== null) filter("created_at < ?", q.createdTo);
  const from = `tasks INDEXED BY ${indexFor(q)} WHERE ${where.join(" AND ")}`;

  const rows = sql
    .exec<Row>(
      `SELECT id, public_id, sub, upstream_id, state, model, created_at, reserved, charged, snapshot FROM ${from}
       ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`,
      ...args,
      q.limit,
      q.offset,
    )
    .toArray();
  const ranged = q.createdFrom !== null || q.createdTo !== null;
  const total = ranged ? cappedCount(sql, from, args) : countedTotal(sql, q);
  return { data: rows.map(toItem), total, totalExact: !ranged || total < TASK_LIST_COUNT_CAP };
}

/** The index whose leading columns are the query's equality filters, ending in created_at. */
function indexFor(q: TaskListQuery): string {
  const user = q.sub !== null;
  if (q.status !== null) return user ? "tasks_list_sub_state" : "tasks_list_state";
  if (q.model !== null) return user ? "tasks_list_sub_model" : "tasks_list_model";
  return user ? "tasks_sub_created" : "tasks_created";
}

/** The matching tasks counted from `task_counts`: a few rows per scope, whatever the tenant's history. */
function countedTotal(sql: SqlStorage, q: TaskListQuery): number {
  const states = q.status !== null ? [q.status] : LISTED_STATUSES;
  const args: SqlStorageValue[] = [q.sub === null ? "" : `u:${q.sub}`, ...states];
  let query = `SELECT COALESCE(SUM(n), 0) AS n FROM task_counts
    WHERE scope = ? AND state IN (${states.map(() => "?").join(", ")})`;
  if (q.model !== null) {
    query += " AND model = ?";
    args.push(q.model);
  }
  return sql.exec<{ n: number }>(query, ...args).one().n;
}

/** A creation-time range has no counter: count its rows in the index, up to TASK_LIST_COUNT_CAP. */
function cappedCount(sql: SqlStorage, from: string, args: SqlStorageValue[]): number {
  return sql
    .exec<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${from} LIMIT ?)`,
      ...args,
      TASK_LIST_COUNT_CAP,
    )
    .one().n;
}

function toItem(r: Row): TaskListItem {
  const status = r.state as TaskStatus;
  const snapshot = parseSnapshot(r.snapshot as string | null);
  return {
    id: publicTaskId({ id: r.id as string, publicId: (r.public_id as string | null) ?? null }),
    status,
    model: r.model as string,
    progress: snapshot?.progress ?? (status === "completed" ? 100 : 0),
    created: Math.floor((r.created_at as number) / 1000),
    credits_reserved: r.reserved as number,
    credits_used: (r.charged as number | null) ?? null,
    has_results: (snapshot?.results?.length ?? 0) > 0,
    has_error: status === "failed" || Boolean(snapshot?.error),
    sub: (r.sub as string | null) ?? null,
    upstream_id: (r.upstream_id as string | null) ?? null,
  };
}

/** A task's last upstream snapshot, validated; null when none or not readable. */
export function parseSnapshot(raw: string | null) {
  if (!raw) return null;
  try {
    const parsed = UpstreamTaskSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** One task as an operator sees it (GET /admin/tenants/{tenant_id}/tasks/{task_id}); null where unknown. */
export interface AdminTaskView {
  id: string;
  upstream_id: string | null;
  sub: string | null;
  status: TaskStatus;
  model: string;
  progress: number;
  created: number;
  updated: number;
  ended: number | null;
  credits_reserved: number;
  credits_used: number | null;
  callback_url: string | null;
  error: { code: string; message: string } | null;
  /**
   * Kept results (src/results): true once every result is in the operator's bucket, false while a copy is
   * pending or when one was refused (storage limit) or lost; null when the task keeps none.
   */
  results_stored: boolean | null;
  /** Why `results_stored` is false, else null (see resultsNotStored). */
  results_not_stored: NotStoredReason | null;
}

export type NotStoredReason = "copy_pending" | "storage_limit" | "link_lost";

/**
 * Why a task's kept results are not all in the bucket, the most hopeful reason first: a copy still to come,
 * then one the storage limit refused, then one whose upstream link died before it was copied.
 */
export function resultsNotStored(states: readonly ResultState[]): NotStoredReason | null {
  if (states.includes("pending")) return "copy_pending";
  if (states.includes("refused")) return "storage_limit";
  if (states.includes("lost")) return "link_lost";
  return null;
}

/** The operator's view of a listed task (null for `creating` and `aborted`, which are not listed). */
export function adminTaskView(
  record: TaskRecord,
  resultStates: readonly ResultState[] = [],
): AdminTaskView | null {
  if (!(LISTED_STATUSES as readonly string[]).includes(record.state)) return null;
  const snapshot = parseSnapshot(record.snapshot);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const error = snapshot?.error;
  return {
    id: publicTaskId(record),
    upstream_id: record.upstreamId,
    sub: record.sub,
    status: record.state as TaskStatus,
    model: record.model,
    progress: snapshot?.progress ?? (record.state === "completed" ? 100 : 0),
    created: seconds(record.createdAt),
    updated: seconds(record.updatedAt),
    ended: record.endedAt === null ? null : seconds(record.endedAt),
    credits_reserved: record.reserved,
    credits_used: record.charged,
    callback_url: record.callbackUrl,
    error: error
      ? { code: String(error.code ?? "unknown_error"), message: error.message ?? "The task failed" }
      : null,
    results_stored: resultStates.length === 0 ? null : resultStates.every((s) => s === "stored"),
    results_not_stored: resultsNotStored(resultStates),
  };
}
