// Idempotency-Key on POST /v1/videos/generations, per tenant and user, remembered 24 hours. The record
// lives in the tenant's Durable Object beside the quota counters, so claiming a key, checking the limits
// and recording the task are one step: of concurrent duplicates exactly one is admitted, the others wait
// for its answer. A failed attempt (the upstream call failed) frees the key for a retry of the same body.
import { IDEMPOTENCY_TTL_MS, MAX_IDEMPOTENCY_KEY_LENGTH } from "../config/constants";
import { ApiError } from "../http/errors";
import { EVOLINK } from "../upstream/providers";
import { base32, hmacSha256 } from "../util/hmac";

/** A response kept for replay: status, JSON body and the Retry-After it carried, if any. */
export interface StoredResponse {
  status: number;
  body: string;
  retryAfter?: string;
}

export interface IdempotencyClaim {
  key: string;
  /** SHA-256 of the canonical request body. */
  hash: string;
}

export type IdempotencyLookup =
  | { kind: "new" }
  /** The last attempt failed: the retry reuses its task id, so the upstream sees the same request. */
  | { kind: "retry"; taskId: string }
  | { kind: "conflict" }
  | { kind: "in_progress"; taskId: string }
  | { kind: "replay"; response: StoredResponse };

/** What a duplicate waiting on the first request finds. */
export type WaitOutcome =
  | { kind: "waiting" }
  | { kind: "done"; response: StoredResponse }
  /** The record expired or was purged while waiting. */
  | { kind: "gone" };

interface Row {
  request_hash: string;
  state: "in_progress" | "done" | "failed";
  task_id: string;
  status: number | null;
  response: string | null;
  created_at: number;
  [k: string]: SqlStorageValue;
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** The header's key, or undefined when absent; 400 when it is not 1..255 visible ASCII characters. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.length === 0 || header.length > MAX_IDEMPOTENCY_KEY_LENGTH || !VISIBLE_ASCII.test(header))
    throw new ApiError(
      "invalid_request",
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`,
      { param: "Idempotency-Key" },
    );
  return header;
}

/** Canonical JSON (object keys sorted at every level), so key order does not make a different body. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

export async function requestHash(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(body)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The key the upstream gets: `rg.` + base32 of an HMAC over tenant, user, key and the record's creation
 * time — 55 characters of [a-z2-7.], inside the upstream's 16–96 `[A-Za-z0-9._-]`. Retries of one record
 * share it (a retried forward cannot create a second paid task); a key reused after expiry gets a new one.
 */
export async function upstreamIdempotencyKey(
  secret: string,
  tenantId: string,
  sub: string | null,
  key: string,
  epoch: number,
): Promise<string> {
  const mac = await hmacSha256(secret, `upstream-idempotency\n${tenantId}\n${sub ?? ""}\n${key}\n${epoch}`);
  const derived = `rg.${base32(mac)}`;
  if (!EVOLINK.idempotencyKey.test(derived))
    throw new Error("derived idempotency key out of the upstream's range");
  return derived;
}

const scopeOf = (sub: string | null) => sub ?? "";

export class IdempotencyTable {
  constructor(private readonly sql: SqlStorage) {}

  private row(sub: string | null, key: string, now: number): Row | undefined {
    return this.sql
      .exec<Row>(
        "SELECT * FROM idempotency WHERE scope = ? AND key = ? AND expires_at > ?",
        scopeOf(sub),
        key,
        now,
      )
      .toArray()[0];
  }

  lookup(sub: string | null, claim: IdempotencyClaim, now: number): IdempotencyLookup {
    const row = this.row(sub, claim.key, now);
    if (!row) return { kind: "new" };
    if (row.request_hash !== claim.hash) return { kind: "conflict" };
    switch (row.state) {
      case "done":
        return { kind: "replay", response: stored(row) };
      case "in_progress":
        return { kind: "in_progress", taskId: row.task_id };
      case "failed":
        return { kind: "retry", taskId: row.task_id };
    }
  }

  /** Claims the key for `taskId` (replacing an expired record). Returns the record's creation time. */
  claim(sub: string | null, claim: IdempotencyClaim, taskId: string, now: number): number {
    this.sql.exec(
      `INSERT INTO idempotency (scope, key, request_hash, state, task_id, created_at, expires_at)
       VALUES (?, ?, ?, 'in_progress', ?, ?, ?)
       ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, state = 'in_progress',
         task_id = excluded.task_id, status = NULL, response = NULL, created_at = excluded.created_at,
         expires_at = excluded.expires_at`,
      scopeOf(sub),
      claim.key,
      claim.hash,
      taskId,
      now,
      now + IDEMPOTENCY_TTL_MS,
    );
    return now;
  }

  /** Claims a failed record again for a retry. Returns the record's (unchanged) creation time. */
  reclaim(sub: string | null, key: string): number {
    return this.sql
      .exec<{ created_at: number }>(
        `UPDATE idempotency SET state = 'in_progress', status = NULL, response = NULL
         WHERE scope = ? AND key = ? RETURNING created_at`,
        scopeOf(sub),
        key,
      )
      .one().created_at;
  }

  /** The first request's answer, for every duplicate from now on. */
  complete(taskId: string, response: StoredResponse): void {
    this.finish(taskId, "done", response);
  }

  /** The attempt failed: duplicates waiting on it get its error; a later retry may claim the key again. */
  fail(taskId: string, response: StoredResponse | null): void {
    this.finish(taskId, "failed", response);
  }

  private finish(taskId: string, state: "done" | "failed", response: StoredResponse | null): void {
    this.sql.exec(
      `UPDATE idempotency SET state = ?, status = ?, response = ?
       WHERE task_id = ? AND state = 'in_progress'`,
      state,
      response?.status ?? null,
      response ? JSON.stringify(response) : null,
      taskId,
    );
  }

  /** What a duplicate waiting on the record of `key` finds now. */
  wait(sub: string | null, key: string, now: number): WaitOutcome {
    const row = this.row(sub, key, now);
    if (!row) return { kind: "gone" };
    if (row.state === "in_progress") return { kind: "waiting" };
    // A failure with no answer kept (the sweeper aborted an orphaned attempt): nothing to replay.
    if (row.response === null) return { kind: "gone" };
    return { kind: "done", response: stored(row) };
  }

  /** Deletes expired records, at most `limit`. Returns how many went. */
  /** When the oldest record expires (index `idempotency_expiry`), or null when there is none. */
  nextExpiry(): number | null {
    const row = this.sql
      .exec<{ t: number }>("SELECT expires_at AS t FROM idempotency ORDER BY expires_at LIMIT 1")
      .toArray()[0];
    return row ? row.t : null;
  }

  purge(now: number, limit: number): number {
    return this.sql.exec(
      `DELETE FROM idempotency WHERE rowid IN
         (SELECT rowid FROM idempotency WHERE expires_at <= ? LIMIT ?)`,
      now,
      limit,
    ).rowsWritten;
  }
}

function stored(row: Row): StoredResponse {
  return JSON.parse(row.response!) as StoredResponse;
}
