// The kept results of a tenant's completed tasks, in its Durable Object's SQLite: one row per result (task row,
// index) from the moment the task ends, through its copy into R2, to its expiry at the end of retention.
// Plain synchronous SQL, so the object can write the rows in the transaction that ends the task, and count
// stored bytes per scope exactly (a reservation is taken before a copy streams, in one step with the check).
//
// States: `pending` (to copy; `next_at` is the next attempt), `stored` (in R2), `refused` (the storage limit
// said no: served from the upstream link while it lives), `lost` (the upstream link died before a copy).
import type { Migration } from "../state/migrations";
import { monthOf, monthStart, nextMonthStart } from "../util/month";

export const RESULT_MIGRATIONS: readonly Migration[] = [
  {
    name: "results/1",
    sql: `CREATE TABLE results (
       task TEXT NOT NULL,
       idx INTEGER NOT NULL,
       sub TEXT,
       source TEXT NOT NULL,
       source_until INTEGER NOT NULL,
       kept_until INTEGER NOT NULL,
       state TEXT NOT NULL,
       attempts INTEGER NOT NULL DEFAULT 0,
       next_at INTEGER,
       reserved INTEGER NOT NULL DEFAULT 0,
       bytes INTEGER,
       content_type TEXT,
       md5 TEXT,
       stored_at INTEGER,
       PRIMARY KEY (task, idx)
     );
     CREATE INDEX results_due ON results (next_at) WHERE state = 'pending';
     CREATE INDEX results_expiry ON results (kept_until);
     CREATE TABLE result_storage (
       scope TEXT PRIMARY KEY,
       bytes INTEGER NOT NULL,
       reserved INTEGER NOT NULL,
       changed_at INTEGER NOT NULL
     );
     CREATE TABLE result_byte_ms (
       scope TEXT NOT NULL,
       month TEXT NOT NULL,
       byte_ms REAL NOT NULL,
       PRIMARY KEY (scope, month)
     );`,
  },
];

export type ResultState = "pending" | "stored" | "refused" | "lost";

export interface ResultRow {
  task: string;
  idx: number;
  sub: string | null;
  /** The upstream's link: where the copy reads from, and what a URL streams from before the copy is done. */
  source: string;
  /** When the upstream link stops working (EvoLink: 24 hours after the end). */
  sourceUntil: number;
  /** The end of retention: the object and this row are deleted then. */
  keptUntil: number;
  state: ResultState;
  attempts: number;
  nextAt: number | null;
  bytes: number | null;
  contentType: string | null;
  /** MD5 of the stored bytes (hex): R2's own for a single put, computed on the way for a multipart one. */
  md5: string | null;
  storedAt: number | null;
}

/** What a finished copy recorded. */
export interface StoredFacts {
  bytes: number;
  contentType: string;
  md5: string;
}

/** Bytes kept per scope now, and the byte-days of a month (docs/results.md, "Usage"). */
export interface StorageUsage {
  bytes: number;
  byteDays: number;
}

type Row = Record<string, SqlStorageValue>;

const DAY_MS = 86_400_000;

export const scopeOf = (sub: string | null): string => (sub === null ? "" : `u:${sub}`);

function toRow(r: Row): ResultRow {
  return {
    task: r.task as string,
    idx: r.idx as number,
    sub: (r.sub as string | null) ?? null,
    source: r.source as string,
    sourceUntil: r.source_until as number,
    keptUntil: r.kept_until as number,
    state: r.state as ResultState,
    attempts: r.attempts as number,
    nextAt: (r.next_at as number | null) ?? null,
    bytes: (r.bytes as number | null) ?? null,
    contentType: (r.content_type as string | null) ?? null,
    md5: (r.md5 as string | null) ?? null,
    storedAt: (r.stored_at as number | null) ?? null,
  };
}

/**
 * The byte·ms a constant `bytes` adds to each month over [from, to): the integral of stored bytes over
 * time, split at month boundaries (UTC). Pure.
 */
export function byteMsByMonth(bytes: number, from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  if (bytes <= 0 || to <= from) return out;
  for (let start = from; start < to;) {
    const end = Math.min(to, nextMonthStart(start));
    out.set(monthOf(start), (out.get(monthOf(start)) ?? 0) + bytes * (end - start));
    start = end;
  }
  return out;
}

export class ResultTable {
  constructor(private readonly sql: SqlStorage) {}

  /** The rows of a task that has just completed: one per result, to copy at once. */
  insert(
    task: string,
    sub: string | null,
    sources: readonly string[],
    sourceUntil: number,
    keptUntil: number,
    now: number,
  ): void {
    sources.forEach((source, idx) =>
      this.sql.exec(
        `INSERT OR IGNORE INTO results (task, idx, sub, source, source_until, kept_until, state, next_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
        task,
        idx,
        sub,
        source,
        sourceUntil,
        keptUntil,
        now,
      ),
    );
  }

  get(task: string, idx: number): ResultRow | null {
    const row = this.sql
      .exec<Row>("SELECT * FROM results WHERE task = ? AND idx = ?", task, idx)
      .toArray()[0];
    return row ? toRow(row) : null;
  }

  ofTask(task: string): ResultRow[] {
    return this.sql.exec<Row>("SELECT * FROM results WHERE task = ? ORDER BY idx", task).toArray().map(toRow);
  }

  /** Copies due at `now`, earliest first. */
  due(now: number, limit: number): ResultRow[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM results INDEXED BY results_due WHERE state = 'pending' AND next_at <= ?
         ORDER BY next_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toRow);
  }

  /** The next copy attempt's time, or null. */
  nextDue(): number | null {
    return this.first(
      `SELECT next_at AS t FROM results INDEXED BY results_due WHERE state = 'pending' ORDER BY next_at LIMIT 1`,
    );
  }

  /** The next end of retention, or null. */
  nextExpiry(): number | null {
    return this.first(
      `SELECT kept_until AS t FROM results INDEXED BY results_expiry ORDER BY kept_until LIMIT 1`,
    );
  }

  expired(now: number, limit: number): ResultRow[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM results INDEXED BY results_expiry WHERE kept_until <= ? ORDER BY kept_until LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toRow);
  }

  /** Starts an attempt: counted, and leased until `leaseUntil` (a crashed attempt is retried then). */
  lease(row: ResultRow, leaseUntil: number): void {
    this.sql.exec(
      "UPDATE results SET attempts = attempts + 1, next_at = ? WHERE task = ? AND idx = ? AND state = 'pending'",
      leaseUntil,
      row.task,
      row.idx,
    );
  }

  /** Takes `bytes` for a copy about to stream, counted against both scopes until it is stored or released. */
  reserve(row: ResultRow, bytes: number, now: number): void {
    this.sql.exec("UPDATE results SET reserved = ? WHERE task = ? AND idx = ?", bytes, row.task, row.idx);
    for (const scope of this.scopes(row.sub)) this.addReserved(scope, bytes, now);
  }

  /** Gives back what `reserve` took for this row (a failed or refused copy). */
  release(row: Pick<ResultRow, "task" | "idx" | "sub">, now: number): void {
    const reserved = this.reservedOf(row);
    if (reserved === 0) return;
    this.sql.exec("UPDATE results SET reserved = 0 WHERE task = ? AND idx = ?", row.task, row.idx);
    for (const scope of this.scopes(row.sub)) this.addReserved(scope, -reserved, now);
  }

  /** The copy is in R2: its reservation becomes stored bytes. False when the row is gone (deleted meanwhile). */
  stored(row: ResultRow, facts: StoredFacts, now: number): boolean {
    const current = this.get(row.task, row.idx);
    if (!current || current.state !== "pending") return false;
    this.release(row, now);
    this.sql.exec(
      `UPDATE results SET state = 'stored', next_at = NULL, bytes = ?, content_type = ?, md5 = ?, stored_at = ?
       WHERE task = ? AND idx = ?`,
      facts.bytes,
      facts.contentType,
      facts.md5,
      now,
      row.task,
      row.idx,
    );
    for (const scope of this.scopes(row.sub)) this.addStored(scope, facts.bytes, now);
    return true;
  }

  /** No copy will be made: `refused` (storage limit) or `lost` (the upstream link died first). */
  settle(row: ResultRow, state: "refused" | "lost", now: number): void {
    this.release(row, now);
    this.sql.exec(
      "UPDATE results SET state = ?, next_at = NULL WHERE task = ? AND idx = ? AND state = 'pending'",
      state,
      row.task,
      row.idx,
    );
  }

  /** The next attempt of a failed copy. */
  retryAt(row: ResultRow, at: number, now: number): void {
    this.release(row, now);
    this.sql.exec(
      "UPDATE results SET next_at = ? WHERE task = ? AND idx = ? AND state = 'pending'",
      at,
      row.task,
      row.idx,
    );
  }

  /** A task's results are due for deletion at `now` (and no longer streamed from the upstream); how many. */
  endRetention(task: string, now: number): number {
    return this.sql.exec(
      "UPDATE results SET kept_until = ?, source_until = MIN(source_until, ?) WHERE task = ?",
      now,
      now,
      task,
    ).rowsWritten;
  }

  /** Deletes a result's row, and takes its bytes (stored or reserved) off its scopes. */
  delete(row: ResultRow, now: number): void {
    this.release(row, now);
    this.sql.exec("DELETE FROM results WHERE task = ? AND idx = ?", row.task, row.idx);
    if (row.state === "stored" && row.bytes)
      for (const scope of this.scopes(row.sub)) this.addStored(scope, -row.bytes, now);
  }

  /** Bytes stored plus reserved by the tenant (`sub` null) or one user. */
  committed(sub: string | null): number {
    const row = this.sql
      .exec<Row>("SELECT bytes, reserved FROM result_storage WHERE scope = ?", scopeOf(sub))
      .toArray()[0];
    return row ? (row.bytes as number) + (row.reserved as number) : 0;
  }

  /** Bytes stored now, and the byte-days of the month holding `monthMs` up to `now` (null sub: the tenant). */
  usage(sub: string | null, monthMs: number, now: number): StorageUsage {
    const scope = scopeOf(sub);
    const month = monthOf(monthMs);
    const current = this.sql
      .exec<Row>("SELECT bytes, changed_at FROM result_storage WHERE scope = ?", scope)
      .toArray()[0];
    const kept = this.sql
      .exec<Row>("SELECT byte_ms FROM result_byte_ms WHERE scope = ? AND month = ?", scope, month)
      .toArray()[0];
    let byteMs = kept ? (kept.byte_ms as number) : 0;
    const bytes = current ? (current.bytes as number) : 0;
    if (current) {
      const end = Math.min(now, nextMonthStart(monthStart(monthMs)));
      byteMs += byteMsByMonth(bytes, current.changed_at as number, end).get(month) ?? 0;
    }
    return { bytes, byteDays: byteMs / DAY_MS };
  }

  /** Every scope's stored bytes and byte-days of a month (the operator's usage and CSV). */
  monthByScope(monthMs: number, now: number): { scope: string; bytes: number; byteDays: number }[] {
    const month = monthOf(monthMs);
    const scopes = this.sql
      .exec<Row>(
        `SELECT scope FROM result_storage UNION SELECT scope FROM result_byte_ms WHERE month = ?`,
        month,
      )
      .toArray()
      .map((r) => r.scope as string);
    return scopes.map((scope) => {
      const sub = scope === "" ? null : scope.slice(2);
      return { scope, ...this.usage(sub, monthMs, now) };
    });
  }

  private scopes(sub: string | null): string[] {
    return sub === null ? [""] : ["", scopeOf(sub)];
  }

  private reservedOf(row: Pick<ResultRow, "task" | "idx">): number {
    const r = this.sql
      .exec<Row>("SELECT reserved FROM results WHERE task = ? AND idx = ?", row.task, row.idx)
      .toArray()[0];
    return r ? (r.reserved as number) : 0;
  }

  private addReserved(scope: string, delta: number, now: number): void {
    this.sql.exec(
      `INSERT INTO result_storage (scope, bytes, reserved, changed_at) VALUES (?, 0, MAX(0, ?), ?)
       ON CONFLICT (scope) DO UPDATE SET reserved = MAX(0, reserved + ?)`,
      scope,
      delta,
      now,
      delta,
    );
  }

  /** Changes a scope's stored bytes, first adding the byte·ms the old figure accrued since its last change. */
  private addStored(scope: string, delta: number, now: number): void {
    const current = this.sql
      .exec<Row>("SELECT bytes, changed_at FROM result_storage WHERE scope = ?", scope)
      .toArray()[0];
    if (current) {
      for (const [month, byteMs] of byteMsByMonth(current.bytes as number, current.changed_at as number, now))
        this.sql.exec(
          `INSERT INTO result_byte_ms (scope, month, byte_ms) VALUES (?, ?, ?)
           ON CONFLICT (scope, month) DO UPDATE SET byte_ms = byte_ms + excluded.byte_ms`,
          scope,
          month,
          byteMs,
        );
    }
    this.sql.exec(
      `INSERT INTO result_storage (scope, bytes, reserved, changed_at) VALUES (?, MAX(0, ?), 0, ?)
       ON CONFLICT (scope) DO UPDATE SET bytes = MAX(0, bytes + ?), changed_at = excluded.changed_at`,
      scope,
      delta,
      now,
      delta,
    );
  }

  private first(query: string): number | null {
    const row = this.sql.exec<{ t: number }>(query).toArray()[0];
    return row ? row.t : null;
  }
}
