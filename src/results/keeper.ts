// The kept-results concern inside the tenant's Durable Object: the rows written when a task completes (in
// the transaction that ends it, so two ends reported at once make one set of rows and one copy), the alarm
// step that copies due results into R2 and deletes those past retention, and what the routes ask of it (a
// result's upstream link while its copy is not done; a task's deletion; stored bytes).
//
// A copy runs on the object's alarm, off every request path, one attempt per row at a time (a lease), and
// retried with backoff while the upstream's link lives. Before any byte streams, the tenant's and the
// user's `result_storage_bytes` are checked and the bytes reserved in one synchronous step: a result that
// would pass a limit is `refused` (logged as `result_storage_refused`), never squeezed in by evicting another.
import {
  RESULT_COPY_BACKOFF_S,
  RESULT_COPY_LEASE_MS,
  RESULT_COPY_PARALLEL,
  RESULT_EXPIRY_BATCH,
  UPSTREAM_RESULT_TTL_MS,
} from "../config/constants";
import type { Logger } from "../http/log";
import type { AlarmClock } from "../state/alarm";
import { resultsPrefix } from "../state/buckets";
import type { TenantRef } from "../state/client";
import type { Tenant } from "../tenants/schema";
import type { UpstreamTask } from "../upstream/schema";
import { openSource, type OpenedSource, TooLarge, writeResult } from "./copy";
import { type ResultRow, ResultTable } from "./table";
import { keptUntil, type KeptTask } from "./url";

/** The R2 key of a kept result: under the tenant's prefix, which its deletion empties (src/state/buckets.ts). */
export function resultKey(tenant: TenantRef, task: string, idx: number): string {
  return `${resultsPrefix(tenant.id)}${tenant.incarnation}/${task}/${idx}`;
}

export interface KeeperDeps {
  storage: DurableObjectStorage;
  tenant: TenantRef;
  alarm: Pick<AlarmClock, "armBy" | "transaction">;
  bucket: R2Bucket | undefined;
  /** The tenant's record now (its storage limits), or null when it is gone or another incarnation. */
  tenantRecord(): Promise<Tenant | null>;
  /** DEV_ALLOW_LOCAL_URLS and the logger, read when a copy runs (the config is parsed lazily). */
  allowLocal(): boolean;
  log(): Logger;
}

/** What a result URL serves when its copy is not in R2: the upstream's link, while it lives. */
export interface ResultSource {
  source: string;
  sourceUntil: number;
}

export class ResultKeeper {
  readonly table: ResultTable;

  constructor(private readonly d: KeeperDeps) {
    this.table = new ResultTable(d.storage.sql);
  }

  /** Inside the transaction that ended the task: a completed task with kept results gets its rows. */
  taskEnded(task: KeptTask & { sub: string | null }, upstream: UpstreamTask, now: number): void {
    const until = keptUntil(task);
    const sources = upstream.status === "completed" ? (upstream.results ?? []) : [];
    if (until === null || sources.length === 0 || !this.d.bucket) return;
    this.table.insert(task.id, task.sub, sources, (task.endedAt ?? now) + UPSTREAM_RESULT_TTL_MS, until, now);
    this.d.alarm.armBy(now);
  }

  /** The upstream link of a result with no copy in R2 yet (or refused), while it still works. */
  source(task: string, idx: number, now: number): ResultSource | null {
    const row = this.table.get(task, idx);
    if (!row || row.keptUntil <= now || row.sourceUntil <= now) return null;
    return { source: row.source, sourceUntil: row.sourceUntil };
  }

  /**
   * The task's results are to go now: their retention ends at `now`, and the expiry (here, and on the
   * alarm should it fail) deletes the objects, then the rows. Synchronous, inside the deleting transaction.
   */
  endRetention(task: string, now: number): number {
    const n = this.table.endRetention(task, now);
    if (n > 0) this.d.alarm.armBy(now);
    return n;
  }

  /** Alarm step: copies what is due, deletes what has expired; returns the next deadline. */
  async step(now: number): Promise<number | null> {
    const [expiredAll] = await Promise.all([this.expire(now), this.copyDue(now)]);
    if (!expiredAll || this.table.due(Date.now(), 1).length > 0) return Date.now();
    const next = [this.table.nextDue(), this.table.nextExpiry()].filter((t): t is number => t !== null);
    return next.length ? Math.min(...next) : null;
  }

  /** Deletes results past retention (objects first, then rows). True when none is left due. */
  async expire(now: number): Promise<boolean> {
    const due = this.table.expired(now, RESULT_EXPIRY_BATCH);
    if (due.length === 0) return true;
    const keys = due.map((r) => resultKey(this.d.tenant, r.task, r.idx));
    if (this.d.bucket) await this.d.bucket.delete(keys);
    this.d.alarm.transaction(() => {
      for (const row of due) this.table.delete(row, now);
    });
    return due.length < RESULT_EXPIRY_BATCH;
  }

  private async copyDue(now: number): Promise<void> {
    const due = this.table.due(now, RESULT_COPY_PARALLEL);
    if (due.length === 0 || !this.d.bucket) return;
    const tenant = await this.d.tenantRecord();
    // The tenant is gone (or this is an old incarnation): nothing to keep; its deletion removes the rows.
    if (!tenant) return;
    for (const row of due) this.table.lease(row, now + RESULT_COPY_LEASE_MS);
    await Promise.all(due.map((row) => this.copy(row, tenant, this.d.bucket!)));
  }

  /** One attempt at one result. Never throws: every outcome is recorded on its row. */
  private async copy(row: ResultRow, tenant: Tenant, bucket: R2Bucket): Promise<void> {
    const log = this.d.log();
    const fields = { task: row.task, index: row.idx };
    if (row.sourceUntil <= Date.now())
      return this.settle(row, "lost", "result_lost", { ...fields, reason: "expired" });
    const opened = await openSource(row.source, this.d.allowLocal());
    if (opened.kind === "gone")
      return this.settle(row, "lost", "result_lost", { ...fields, status: opened.status });
    if (opened.kind === "retry") return this.retry(row, opened.reason);

    const decision = this.d.alarm.transaction(() => this.admit(row, opened, tenant));
    if (decision.kind === "gone") {
      await opened.body.cancel();
      return;
    }
    if (decision.kind === "refused") {
      await opened.body.cancel();
      return this.settle(row, "refused", "result_storage_refused", { ...fields, ...decision.refusal });
    }
    const key = resultKey(this.d.tenant, row.task, row.idx);
    try {
      const written = await writeResult(bucket, key, opened, decision.cap);
      const facts = { ...written, contentType: opened.contentType };
      const kept = this.d.alarm.transaction(() => this.table.stored(row, facts, Date.now()));
      // Deleted while it streamed: the object written must not outlive its row.
      if (!kept) await bucket.delete(key);
      else log.info("result_stored", { ...fields, bytes: facts.bytes, md5: facts.md5 });
    } catch (err) {
      if (err instanceof TooLarge) {
        await bucket.delete(key).catch(() => {});
        const refusal = { scope: "tenant_or_user", limit: "result_storage_bytes", needed: decision.cap! + 1 };
        return this.settle(row, "refused", "result_storage_refused", { ...fields, ...refusal });
      }
      return this.retry(row, String(err));
    }
  }

  /**
   * The storage decision, one synchronous step: refused when the result's bytes would pass the tenant's or
   * the user's `result_storage_bytes`; otherwise reserved (a known length) or capped (an unknown one).
   */
  private admit(
    row: ResultRow,
    opened: OpenedSource,
    tenant: Tenant,
  ):
    | { kind: "gone" }
    | { kind: "refused"; refusal: Record<string, unknown> }
    | { kind: "admitted"; cap: number | null } {
    const current = this.table.get(row.task, row.idx);
    if (!current || current.state !== "pending") return { kind: "gone" };
    const scopes: { scope: string; sub: string | null; max: number | undefined }[] = [
      { scope: "tenant", sub: null, max: tenant.quotas?.result_storage_bytes },
    ];
    if (row.sub !== null)
      scopes.push({ scope: "user", sub: row.sub, max: tenant.user_quotas?.result_storage_bytes });
    let cap: number | null = null;
    for (const s of scopes) {
      if (s.max === undefined) continue;
      const used = this.table.committed(s.sub);
      const left = Math.max(0, s.max - used);
      if (opened.length !== null && opened.length > left)
        return {
          kind: "refused",
          refusal: { scope: s.scope, limit: "result_storage_bytes", max: s.max, used, needed: opened.length },
        };
      cap = cap === null ? left : Math.min(cap, left);
    }
    if (opened.length !== null) {
      this.table.reserve(row, opened.length, Date.now());
      return { kind: "admitted", cap: null };
    }
    return { kind: "admitted", cap };
  }

  private settle(
    row: ResultRow,
    state: "refused" | "lost",
    event: string,
    fields: Record<string, unknown>,
  ): void {
    this.d.alarm.transaction(() => this.table.settle(row, state, Date.now()));
    this.d.log().warn(event, { tenant_id: this.d.tenant.id, ...fields });
  }

  /** The next attempt after the row's backoff, or `lost` when the link will have died by then. */
  private retry(row: ResultRow, reason: string): void {
    const now = Date.now();
    const attempt = row.attempts + 1;
    const delay = RESULT_COPY_BACKOFF_S[Math.min(attempt, RESULT_COPY_BACKOFF_S.length) - 1]! * 1000;
    const at = now + delay;
    const fields = { task: row.task, index: row.idx, attempt, reason: reason.slice(0, 200) };
    if (at >= row.sourceUntil)
      return this.settle(row, "lost", "result_lost", { ...fields, reason: "retries ran out" });
    this.d.alarm.transaction(() => this.table.retryAt(row, at, now));
    this.d.log().warn("result_copy_retry", { tenant_id: this.d.tenant.id, ...fields, next_at: at });
  }
}
