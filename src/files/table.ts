// The files table of a tenant's Durable Object (docs/storage-schema.md, "Uploaded files"): one row per
// upload from the moment its quota slot is taken (`pending`) until it expires or is deleted, and the bytes
// uploaded per scope and month. Plain synchronous SQL, so a quota decision and its row are one step.
import type { Migration } from "../state/migrations";

export const FILE_MIGRATIONS: readonly Migration[] = [
  {
    name: "files/1",
    sql: `CREATE TABLE files (
       id TEXT PRIMARY KEY,
       sub TEXT,
       state TEXT NOT NULL,
       backend TEXT NOT NULL,
       size INTEGER NOT NULL DEFAULT 0,
       mime TEXT,
       file_name TEXT,
       upload_path TEXT,
       upstream_id TEXT,
       file_url TEXT,
       created_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL,
       task_id TEXT,
       purge_upstream INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX files_expiry ON files (expires_at);
     CREATE INDEX files_sub_expiry ON files (sub, expires_at);
     CREATE INDEX files_task ON files (task_id) WHERE task_id IS NOT NULL;
     CREATE TABLE file_months (
       scope TEXT NOT NULL,
       month TEXT NOT NULL,
       files INTEGER NOT NULL DEFAULT 0,
       bytes INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (scope, month)
     );`,
  },
];

export type FileBackend = "evolink" | "r2";

export interface FileRecord {
  id: string;
  sub: string | null;
  state: "pending" | "stored";
  backend: FileBackend;
  size: number;
  mime: string | null;
  fileName: string | null;
  uploadPath: string | null;
  upstreamId: string | null;
  /** The upstream's URL (evolink backend); R2 files get a freshly signed one when shown. */
  fileUrl: string | null;
  createdAt: number;
  expiresAt: number;
  taskId: string | null;
}

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  sub: string | null;
  state: string;
  backend: string;
  size: number;
  mime: string | null;
  file_name: string | null;
  upload_path: string | null;
  upstream_id: string | null;
  file_url: string | null;
  created_at: number;
  expires_at: number;
  task_id: string | null;
  purge_upstream: number;
}

export interface StoredFacts {
  size: number;
  mime: string;
  fileName: string;
  uploadPath: string;
  upstreamId: string | null;
  fileUrl: string | null;
  expiresAt: number;
}

/** A scope's key in `file_months`: `tenant`, or `user:` + sub. */
export const scopeKey = (sub: string | null) => (sub === null ? "tenant" : `user:${sub}`);

export class FileTable {
  constructor(private readonly sql: SqlStorage) {}

  get(id: string): FileRecord | null {
    const row = this.sql.exec<Row>("SELECT * FROM files WHERE id = ?", id).toArray()[0];
    return row ? fromRow(row) : null;
  }

  /** Live files (pending or stored, unexpired) of the tenant, or of one user. */
  liveCount(sub: string | null, now: number): number {
    const q =
      sub === null
        ? this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM files WHERE expires_at > ?", now)
        : this.sql.exec<{ n: number }>(
            "SELECT COUNT(*) AS n FROM files WHERE sub = ? AND expires_at > ?",
            sub,
            now,
          );
    return q.one().n;
  }

  monthBytes(scope: string, month: string): number {
    const row = this.sql
      .exec<{ bytes: number }>("SELECT bytes FROM file_months WHERE scope = ? AND month = ?", scope, month)
      .toArray()[0];
    return row?.bytes ?? 0;
  }

  monthTotals(month: string): { scope: string; files: number; bytes: number }[] {
    return this.sql
      .exec<{ scope: string; files: number; bytes: number }>(
        "SELECT scope, files, bytes FROM file_months WHERE month = ? ORDER BY scope",
        month,
      )
      .toArray();
  }

  insertPending(id: string, sub: string | null, backend: FileBackend, now: number, expiresAt: number): void {
    this.sql.exec(
      "INSERT INTO files (id, sub, state, backend, created_at, expires_at) VALUES (?, ?, 'pending', ?, ?, ?)",
      id,
      sub,
      backend,
      now,
      expiresAt,
    );
  }

  /** The upload finished: the row becomes a stored file, and its bytes count toward the month. */
  store(id: string, facts: StoredFacts, month: string): boolean {
    const current = this.get(id);
    if (!current || current.state !== "pending") return false;
    this.sql.exec(
      `UPDATE files SET state = 'stored', size = ?, mime = ?, file_name = ?, upload_path = ?, upstream_id = ?,
         file_url = ?, expires_at = ? WHERE id = ?`,
      facts.size,
      facts.mime,
      facts.fileName,
      facts.uploadPath,
      facts.upstreamId,
      facts.fileUrl,
      facts.expiresAt,
      id,
    );
    const scopes = current.sub === null ? ["tenant"] : ["tenant", scopeKey(current.sub)];
    for (const scope of scopes)
      this.sql.exec(
        `INSERT INTO file_months (scope, month, files, bytes) VALUES (?, ?, 1, ?)
         ON CONFLICT (scope, month) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes`,
        scope,
        month,
        facts.size,
      );
    return true;
  }

  delete(id: string): void {
    this.sql.exec("DELETE FROM files WHERE id = ?", id);
  }

  /** Stored, unexpired files, newest first; `sub` null lists the whole tenant's. */
  page(
    sub: string | null,
    now: number,
    offset: number,
    limit: number,
  ): { files: FileRecord[]; total: number } {
    const where =
      sub === null
        ? "state = 'stored' AND expires_at > ?"
        : "state = 'stored' AND expires_at > ? AND sub = ?";
    const args: SqlStorageValue[] = sub === null ? [now] : [now, sub];
    const total = this.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM files WHERE ${where}`, ...args)
      .one().n;
    const rows = this.sql
      .exec<Row>(
        `SELECT * FROM files WHERE ${where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
        ...args,
        limit,
        offset,
      )
      .toArray();
    return { files: rows.map(fromRow), total };
  }

  /** The task that used these files (the last one to use a file wins). */
  linkTask(ids: readonly string[], taskId: string): void {
    for (const id of ids)
      this.sql.exec("UPDATE files SET task_id = ? WHERE id = ? AND state = 'stored'", taskId, id);
  }

  /** The files the ended task used expire now; the evolink ones are also deleted upstream. */
  releaseForTask(taskId: string, now: number): number {
    return this.sql.exec(
      "UPDATE files SET expires_at = ?, purge_upstream = (backend = 'evolink') WHERE task_id = ? AND expires_at > ?",
      now,
      taskId,
      now,
    ).rowsWritten;
  }

  /** Up to `limit` rows whose time is up, oldest first. */
  due(now: number, limit: number): (FileRecord & { purgeUpstream: boolean })[] {
    return this.sql
      .exec<Row>("SELECT * FROM files WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", now, limit)
      .toArray()
      .map((r) => ({ ...fromRow(r), purgeUpstream: r.purge_upstream === 1 }));
  }

  nextExpiry(): number | null {
    const row = this.sql.exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM files").one();
    return row.t ?? null;
  }
}

function fromRow(r: Row): FileRecord {
  return {
    id: r.id,
    sub: r.sub,
    state: r.state === "stored" ? "stored" : "pending",
    backend: r.backend === "r2" ? "r2" : "evolink",
    size: r.size,
    mime: r.mime,
    fileName: r.file_name,
    uploadPath: r.upload_path,
    upstreamId: r.upstream_id,
    fileUrl: r.file_url,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    taskId: r.task_id,
  };
}
