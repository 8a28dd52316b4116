// One Durable Object per tenant (SQLite-backed): the tenant's tasks, quota counters and callback outbox.
// Every read and write of a tenant's tasks goes through this single object, so a task is visible the
// moment its creation returns, from any location, and admission, settlement and event recording are each
// one atomic step (synchronous SQL, no await in between).
import { DurableObject } from "cloudflare:workers";
import {
  DeliveryLedger,
  type DeliveryEntry,
  type DeliveryPage,
  type DeliveryView,
} from "../callbacks/ledger";
import { messageFromRecord, type WebhookMessage } from "../callbacks/message";
import { CALLBACK_MIGRATIONS } from "../callbacks/migrations";
import { Outbox } from "../callbacks/outbox";
import { loadConfig } from "../config/env";
import type { Env } from "../env";
import { configLogger } from "../http/log";
import type { AdmitRequest, AdmitResult } from "../quota/admission";
import { type LedgerPage, QuotaBook, type UsageSnapshot } from "../quota/book";
import type { StoredResponse, WaitOutcome } from "../quota/idempotency";
import { QUOTA_MIGRATIONS } from "../quota/migrations";
import { createInObject, type CreateRequest, type CreateResult } from "../tasks/create-rpc";
import { type SweepReport, sweepTenant } from "../tasks/sweeper";
import { TASK_MIGRATIONS, type TaskRecord, TaskStore } from "../tasks/store";
import type { UpstreamTask } from "../upstream/schema";
import { migrate } from "./migrations";
import { FileBook, type ReserveRequest, type ReserveResult, type UploadUsage } from "../files/book";
import { deleteUpstreamFile } from "../files/expiry";
import { FILE_MIGRATIONS, type FileRecord, type StoredFacts } from "../files/store";

export type { TaskRecord } from "../tasks/store";

/** The result of recording an upstream state: `firstEnd` is true exactly once per task. */
export interface ObserveResult {
  record: TaskRecord;
  firstEnd: boolean;
}

export class TenantState extends DurableObject<Env> {
  private readonly tasks: TaskStore;
  private readonly outbox: Outbox;
  private readonly deliveries: DeliveryLedger;
  private readonly quota: QuotaBook;
  private readonly files: FileBook;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, [
      ...TASK_MIGRATIONS,
      ...CALLBACK_MIGRATIONS,
      ...QUOTA_MIGRATIONS,
      ...FILE_MIGRATIONS,
    ]);
    this.tasks = new TaskStore(ctx.storage.sql);
    // Every stub is made with idFromName(tenant id), so the object knows its tenant.
    const tenantId = ctx.id.name ?? "";
    this.outbox = new Outbox(ctx.storage, env.WEBHOOKS, tenantId);
    this.deliveries = new DeliveryLedger(ctx.storage.sql, tenantId);
    this.quota = new QuotaBook(ctx.storage, this.tasks, env.KV, tenantId);
    this.files = new FileBook(ctx.storage, tenantId);
  }

  /**
   * Admission (src/quota/admission.ts), one synchronous step: the Idempotency-Key, the tenant's and the
   * user's limits, then the task row and its reservation — recorded before the upstream is called, so an
   * early callback always finds it — or a refusal that writes nothing.
   */
  async admit(request: AdmitRequest): Promise<AdmitResult> {
    return this.quota.admit(request);
  }

  /**
   * POST /v1/videos/generations in one round trip (src/tasks/create-rpc.ts): `admit`, then — admitted —
   * the upstream call, then `attachUpstream` or `abortTask`. Plain data back; errors as `ErrorData`.
   */
  async create(request: CreateRequest): Promise<CreateResult> {
    const config = loadConfig(this.env);
    const tenantId = this.ctx.id.name ?? "";
    return createInObject(
      {
        tenantId,
        config,
        log: configLogger(config, { request_id: request.requestId, tenant_id: tenantId }),
        admit: (r) => this.quota.admit(r),
        abort: (id, now, failure) => this.abortTask(id, now, failure),
        attach: (id, upstream, now, response) => this.attachUpstream(id, upstream, now, response),
      },
      request,
    );
  }

  /** The upstream accepted the task: bind its id and first state, raise the hold, keep the answer. */
  async attachUpstream(
    taskId: string,
    upstream: UpstreamTask,
    now: number,
    response?: StoredResponse,
  ): Promise<TaskRecord | null> {
    return this.ctx.storage.transactionSync(() => {
      const current = this.tasks.get(taskId);
      if (!current) return null;
      const reserved = Math.max(current.reserved, upstream.usage?.credits_reserved ?? 0);
      if (!this.tasks.attach(taskId, upstream, reserved, now)) return null;
      this.quota.attached(current, reserved, response ?? null);
      return this.tasks.get(taskId);
    });
  }

  /**
   * The upstream call failed before a task id came back: the task never existed for the tenant, its
   * reservation and slot are released, and duplicates waiting on its Idempotency-Key get `failure`.
   */
  async abortTask(taskId: string, now: number, failure?: StoredResponse): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      const current = this.tasks.get(taskId);
      if (current && this.tasks.abort(taskId, now)) this.quota.aborted(current, failure ?? null);
    });
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    return this.tasks.get(taskId);
  }

  /**
   * Records what the upstream says about a task (poll, callback or sweep). The first report of an end
   * state ends the task exactly once; later reports of any kind change nothing.
   */
  async observe(taskId: string, upstream: UpstreamTask, now: number): Promise<ObserveResult | null> {
    // One transaction: if settlement or the event cannot be written, the task does not end either, and the
    // next report (an upstream retry, a poll, the sweeper) ends it again.
    return this.ctx.storage.transactionSync(() => {
      const current = this.tasks.get(taskId);
      if (!current || current.upstreamId !== upstream.id) return null;
      if (current.endedAt !== null) return { record: current, firstEnd: false };
      const firstEnd = this.tasks.record(taskId, upstream, now);
      if (firstEnd) this.onTaskEnded(this.tasks.get(taskId)!, upstream, now);
      return { record: this.tasks.get(taskId)!, firstEnd };
    });
  }

  /**
   * Runs once per task, synchronously inside the transaction that ended it: credit settlement (quota)
   * and the tenant's task-ended event (callbacks outbox) hang off this single seam.
   */
  private onTaskEnded(record: TaskRecord, upstream: UpstreamTask, now: number): void {
    this.quota.settle(record, upstream, now);
    this.outbox.taskEnded(record, upstream, now);
    this.files.taskEnded(record.id, now);
  }

  /**
   * The object's one alarm, shared by every concern that needs a wake-up. Each step does its due work and
   * returns when it next wants to run (null: never); the alarm is re-armed for the earliest. A step may
   * also wake the alarm early with `setAlarm(now)`, so no step may rely on its own alarm time surviving.
   */
  override async alarm(): Promise<void> {
    const steps: (() => Promise<number | null>)[] = [
      () => this.outbox.flush(Date.now()),
      () => this.quota.syncKv(Date.now()),
      () => this.expireFiles(Date.now()),
    ];
    const wants = await Promise.all(
      steps.map((step) =>
        step().catch((err: unknown) => {
          console.error(JSON.stringify({ level: "error", event: "alarm_step_failed", error: String(err) }));
          return Date.now() + 30_000;
        }),
      ),
    );
    const next = Math.min(...wants.filter((t): t is number => t !== null));
    if (!Number.isFinite(next)) return;
    const armed = await this.ctx.storage.getAlarm();
    if (armed === null || armed > next) await this.ctx.storage.setAlarm(next);
  }

  // --- Quotas (src/quota): the caller's usage, the operator's ledger, idempotent duplicates, the sweeper.

  /** The caller's quota state; given the `limits`, the object skips what GET /v1/usage will not show. */
  async usage(sub: string | null, now: number, limits?: AdmitRequest["limits"]): Promise<UsageSnapshot> {
    return this.quota.usage(sub, now, limits);
  }

  /** The ledger of the month starting at `monthMs`: totals per scope and a page of its tasks. */
  async monthLedger(monthMs: number, cursor: string | null, limit: number): Promise<LedgerPage> {
    return this.quota.month(monthMs, cursor, limit);
  }

  /** What a duplicate waiting on the first request with its Idempotency-Key finds now. */
  async idempotencyWait(sub: string | null, key: string, now: number): Promise<WaitOutcome> {
    return this.quota.wait(sub, key, now);
  }

  /** The reconciliation sweep (src/tasks/sweeper.ts) at `now`, the cron's scheduled time. */
  async sweep(now: number): Promise<SweepReport> {
    const config = loadConfig(this.env);
    return sweepTenant(
      {
        tasks: this.tasks,
        config,
        log: configLogger(config, { tenant_id: this.ctx.id.name ?? "" }),
        observe: (id, upstream, at) => this.observe(id, upstream, at),
        abort: (id, at) => this.abortTask(id, at),
        purgeIdempotency: (at, limit) => this.quota.purgeExpired(at, limit),
        // KV documents are pruned by the real clock, not the sweep's scheduled time.
        syncKv: () => this.quota.syncKv(Date.now()),
      },
      now,
    );
  }

  // --- Webhook delivery records (src/callbacks): written by the queue consumers, read by the admin API.

  async recordDelivery(entry: DeliveryEntry): Promise<DeliveryView> {
    return this.deliveries.record(entry, Date.now());
  }

  async listDeliveries(limit: number, cursor?: number): Promise<DeliveryPage> {
    return this.deliveries.list(Date.now(), limit, cursor);
  }

  /** The event a delivery record belongs to, rebuilt from the ended task, to be sent again. */
  async redeliveryMessage(deliveryId: string): Promise<WebhookMessage | null> {
    const found = this.deliveries.find(deliveryId, Date.now());
    const record = found && this.tasks.get(found.taskId);
    return record ? messageFromRecord(this.ctx.id.name ?? "", record) : null;
  }

  // --- Uploaded files (src/files): quota slots, records, links to the tasks that used them, expiry.

  /** Checks the upload quotas and takes a slot for file `id`, or refuses. */
  async filesReserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.files.reserve(request);
  }

  async filesCommit(id: string, facts: StoredFacts): Promise<FileRecord | null> {
    return this.files.commit(id, facts, Date.now());
  }

  async filesRelease(id: string): Promise<void> {
    this.files.release(id);
  }

  async filesList(sub: string | null, now: number, offset: number, limit: number) {
    return this.files.table.page(sub, now, offset, limit);
  }

  /** Removes the record of a file the caller may see and returns it (the caller deletes the bytes). */
  async filesDelete(id: string, sub: string | null, now: number): Promise<FileRecord | null> {
    return this.files.remove(id, sub, now);
  }

  async filesUsage(
    sub: string | null,
    now: number,
  ): Promise<{ tenant: UploadUsage; user: UploadUsage | null }> {
    return this.files.usage(sub, now);
  }

  async filesMonth(month: string): Promise<{ scope: string; files: number; bytes: number }[]> {
    return this.files.month(month);
  }

  /** The created task `taskId` uses these files (policy.delete_uploads_after_task). */
  async filesLinkTask(taskId: string, fileIds: string[], now: number): Promise<void> {
    const task = this.tasks.get(taskId);
    if (task) this.files.linkTask(fileIds, taskId, task.endedAt !== null, now);
  }

  /** Alarm step: expired and released files are deleted from R2 (and EvoLink, when released early). */
  private expireFiles(now: number): Promise<number | null> {
    const tenantId = this.ctx.id.name ?? "";
    return this.files.expire(now, {
      r2: async (keys) => {
        if (this.env.UPLOADS) await this.env.UPLOADS.delete(keys);
      },
      upstream: (upstreamId) => deleteUpstreamFile(loadConfig(this.env), tenantId, upstreamId),
    });
  }
}

export function tenantState(env: Env, tenantId: string): DurableObjectStub<TenantState> {
  return env.TENANT_STATE.get(env.TENANT_STATE.idFromName(tenantId));
}
