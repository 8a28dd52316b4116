// The files concern inside the tenant's Durable Object, as the object's methods call it: a quota decision
// and the pending row in one step, the upload's commit or release, listing, deletion, the links to the
// tasks that used a file, and the alarm step that deletes what has expired (R2 objects, and EvoLink files
// released early by `policy.delete_uploads_after_task`).
import { FILE_EXPIRY_BATCH, FILE_PENDING_TTL_MS } from "../config/constants";
import type { QuotaLimits } from "../tenants/schema";
import { monthOf } from "../util/month";
import { type ByteBudget, checkUpload, type UploadRefusal, type UploadScope } from "./quota";
import { r2Key } from "./r2";
import { type FileBackend, type FileRecord, FileTable, scopeKey, type StoredFacts } from "./table";
import type { AlarmClock } from "../state/alarm";

export interface ReserveRequest {
  id: string;
  sub: string | null;
  backend: FileBackend;
  declaredBytes: number;
  limits: { tenant: QuotaLimits; user: QuotaLimits };
  now: number;
}

export type ReserveResult =
  { kind: "reserved"; budget: ByteBudget | null } | { kind: "refused"; refusal: UploadRefusal };

export interface UploadUsage {
  files: number;
  bytes: number;
}

export interface FileDeleter {
  r2(keys: string[]): Promise<void>;
  upstream(upstreamId: string): Promise<void>;
}

export class FileBook {
  readonly table: FileTable;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tenantId: string,
    private readonly alarm: Pick<AlarmClock, "armBy">,
  ) {
    this.table = new FileTable(storage.sql);
  }

  /** Checks the upload quotas and takes a slot (a pending row), or refuses and writes nothing. */
  reserve(r: ReserveRequest): ReserveResult {
    return this.storage.transactionSync(() => {
      const month = monthOf(r.now);
      const scopes: UploadScope[] = [
        { scope: "tenant", limits: r.limits.tenant, ...this.counts(null, month, r.now) },
      ];
      if (r.sub !== null)
        scopes.push({ scope: "user", limits: r.limits.user, ...this.counts(r.sub, month, r.now) });
      const decision = checkUpload(scopes, r.declaredBytes);
      if (decision.refusal) return { kind: "refused", refusal: decision.refusal };
      this.table.insertPending(r.id, r.sub, r.backend, r.now, r.now + FILE_PENDING_TTL_MS);
      this.wake(r.now + FILE_PENDING_TTL_MS);
      return { kind: "reserved", budget: decision.budget };
    });
  }

  commit(id: string, facts: StoredFacts, now: number): FileRecord | null {
    return this.storage.transactionSync(() => {
      if (!this.table.store(id, facts, monthOf(now))) return null;
      this.wake(facts.expiresAt);
      return this.table.get(id);
    });
  }

  /** The upload failed: its slot is free again at once. */
  release(id: string): void {
    const row = this.table.get(id);
    if (row?.state === "pending") this.table.delete(id);
  }

  /** The file, when `sub` may see it (a token without `sub` sees every file of the tenant). */
  visible(id: string, sub: string | null, now: number): FileRecord | null {
    const row = this.table.get(id);
    if (!row || row.state !== "stored" || row.expiresAt <= now) return null;
    return sub === null || row.sub === sub ? row : null;
  }

  /** Deletes a file the caller may see; returns it (the backend's copy is the caller's to delete), or null. */
  remove(id: string, sub: string | null, now: number): FileRecord | null {
    const row = this.visible(id, sub, now);
    if (row) this.table.delete(id);
    return row;
  }

  usage(sub: string | null, now: number): { tenant: UploadUsage; user: UploadUsage | null } {
    const month = monthOf(now);
    return {
      tenant: this.counts(null, month, now),
      user: sub === null ? null : this.counts(sub, month, now),
    };
  }

  month(month: string): { scope: string; files: number; bytes: number }[] {
    return this.table.monthTotals(month);
  }

  /** Files a created task uses; when the task has already ended, they are released at once. */
  linkTask(ids: readonly string[], taskId: string, ended: boolean, now: number): void {
    this.storage.transactionSync(() => {
      this.table.linkTask(ids, taskId);
      if (ended) this.taskEnded(taskId, now);
    });
  }

  /** Runs inside the transaction that ended the task (the object's onTaskEnded seam). */
  taskEnded(taskId: string, now: number): void {
    if (this.table.releaseForTask(taskId, now) > 0) this.wake(now);
  }

  /** Alarm step: deletes what is due (the row only once its copy is gone); returns the next deadline. */
  async expire(now: number, deleter: FileDeleter): Promise<number | null> {
    const due = this.table.due(now, FILE_EXPIRY_BATCH);
    const r2 = due.filter((f) => f.backend === "r2");
    if (r2.length > 0) await deleter.r2(r2.map((f) => r2Key(this.tenantId, f.id)));
    for (const f of due) {
      if (f.purgeUpstream && f.upstreamId) await deleter.upstream(f.upstreamId);
      this.table.delete(f.id);
    }
    if (due.length === FILE_EXPIRY_BATCH) return Date.now();
    return this.table.nextExpiry();
  }

  private counts(sub: string | null, month: string, now: number): UploadUsage {
    return { files: this.table.liveCount(sub, now), bytes: this.table.monthBytes(scopeKey(sub), month) };
  }

  /** Makes sure the object's alarm runs by `at` (never pushes an earlier alarm back). */
  private wake(at: number): void {
    this.alarm.armBy(at);
  }
}
