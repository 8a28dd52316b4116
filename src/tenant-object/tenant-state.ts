// One Durable Object per tenant incarnation (SQLite-backed): the tenant's tasks, quota counters, callback
// outbox and delivery records. It does only what needs serialization — admission, a task's end, settlement,
// the outbox — each as one atomic step (synchronous SQL, no await in between). Reading a task's state does
// not come here (src/tasks/routes.ts polls at the edge). The class is a dispatcher: the logic lives in the
// modules each method names, and it sits above them all (nothing below imports it). The Worker reaches it
// through src/state/client.ts.
import { DurableObject } from "cloudflare:workers";
import {
  DeliveryLog,
  type DeliveryEntry,
  type DeliveryPage,
  type DeliveryView,
} from "../callbacks/delivery-log";
import { deadLettered, messageFromRecord, type WebhookMessage } from "../callbacks/message";
import {
  type EndpointGate,
  type EndpointHealth,
  type EndpointPolicy,
  endpointDisabled,
  Endpoints,
  testEvent,
} from "../callbacks/health";
import { thresholdMessage, usageSettled } from "../usage/events";
import type { ThresholdReached } from "../quota/counters";
import { Outbox } from "../callbacks/outbox";
import { loadConfig } from "../config/env";
import type { Env } from "../env";
import { configLogger } from "../http/log";
import type { AdmissionCheck, AdmitRequest, AdmitResult } from "../quota/admission";
import { type LedgerPage, QuotaBook, type UsageSnapshot } from "../quota/book";
import type { StoredResponse, WaitOutcome } from "../idempotency/keys";
import { createInObject, type CreateRequest, type CreateResult } from "../generations/create-rpc";
import { type TenantRef, tenantOfObject } from "../state/client";
import { creatingDeadline, silentDeadline, type SweepDeps, sweepStep } from "../tasks/sweeper";
import { listTasks, type TaskListPage, type TaskListQuery } from "../tasks/list";
import { type TaskRecord, TaskTable } from "../tasks/table";
import type { UpstreamTask } from "../upstream/schema";
import { AlarmClock } from "../state/alarm";
import { migrate } from "../state/migrations";
import { retire, type RetireResult } from "../state/retire";
import { type DailyRows, readDaily } from "../usage/daily";
import type { ScopeStorage } from "../usage/storage";
import type { ResultState } from "../results/table";
import { monthOf, monthStart } from "../util/month";
import type { Refusal, ScopeState } from "../quota/arithmetic";
import { FileBook, type ReserveRequest, type ReserveResult, type UploadUsage } from "../files/book";
import { deleteUpstreamFile } from "../files/expiry";
import { TENANT_OBJECT_MIGRATIONS } from "./migrations";
import { type FileRecord, type StoredFacts } from "../files/table";
import { ResultKeeper, type ResultSource } from "../results/keeper";
import type { StorageUsage } from "../results/table";
import { getTenant } from "../tenants/lookup";
import { type LeaseAnswer, type LeaseRequest, StreamLeases } from "../events/leases";
import {
  EVENT_STREAM_RETRY_AFTER_MAX_S,
  RESERVATIONS_REPORT_MS,
  WEBHOOK_RELEASE_PER_SECOND,
} from "../config/constants";
import { fromUnits } from "../quota/arithmetic";
import { registry } from "../tenants/registry-client";
import { type CallbackReport, reportInObject } from "../callbacks/report";

export type { TaskRecord } from "../tasks/table";

/** The result of recording an upstream state: `firstEnd` is true exactly once per task. */
export interface ObserveResult {
  record: TaskRecord;
  firstEnd: boolean;
}

export class TenantState extends DurableObject<Env> {
  private readonly tenant: TenantRef;
  private readonly tasks: TaskTable;
  private readonly outbox: Outbox;
  private readonly deliveries: DeliveryLog;
  private readonly endpoints: Endpoints;
  private readonly quota: QuotaBook;
  /** The one alarm: every concern arms it through here (src/state/alarm.ts). */
  private readonly alarms: AlarmClock;
  /**
   * Tasks admitted by this instance and not yet attached or aborted: their attempts are alive. Memory
   * only, on purpose: after a crash or restart it is empty, and a key still held by a dead attempt is taken
   * over by the next request with it (src/quota/admission.ts) instead of answering 409 until the sweeper.
   */
  private readonly running = new Set<string>();

  private readonly files: FileBook;
  private readonly results: ResultKeeper;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Every stub is made by tenantObject(), which names the object `<tenant>~<incarnation>`; anything else
    // is a bug that would file events under no tenant, so it fails here, loudly.
    this.tenant = tenantOfObject(ctx.id.name);
    migrate(ctx.storage.sql, TENANT_OBJECT_MIGRATIONS);
    this.tasks = new TaskTable(ctx.storage.sql);
    this.alarms = new AlarmClock(ctx.storage);
    void ctx.blockConcurrencyWhile(() => this.alarms.load());
    this.outbox = new Outbox(ctx.storage, env.WEBHOOKS, this.tenant, this.alarms);
    this.deliveries = new DeliveryLog(ctx.storage.sql, this.tenant.id);
    this.endpoints = new Endpoints(ctx.storage.sql);
    this.quota = new QuotaBook(ctx.storage, this.tasks, env.KV, this.tenant.id, this.alarms, (reached) =>
      this.thresholdReached(reached),
    );
    this.files = new FileBook(ctx.storage, this.tenant.id, this.alarms);
    const tenant = this.tenant;
    this.results = new ResultKeeper({
      storage: ctx.storage,
      tenant,
      alarm: this.alarms,
      bucket: env.RESULTS,
      tenantRecord: async () => {
        const record = await getTenant(env, tenant.id);
        return record?.incarnation === tenant.incarnation ? record : null;
      },
      allowLocal: () => loadConfig(env).devAllowLocalUrls,
      log: () => configLogger(loadConfig(env), { tenant_id: tenant.id }),
    });
  }

  /**
   * Admission (src/quota/admission.ts), one synchronous step: the Idempotency-Key, the tenant's and the
   * user's limits, then the task row and its reservation — recorded before the upstream is called, so an
   * early callback always finds it — or a refusal that writes nothing.
   */
  async admit(request: AdmitRequest): Promise<AdmitResult> {
    return this.admitAndArm(request);
  }

  /**
   * POST /v1/videos/generations in one round trip (src/generations/create-rpc.ts): `admit`, then — admitted —
   * the upstream call, then `attachUpstream` or `abortTask`. Plain data back; errors as `ErrorData`.
   */
  async create(request: CreateRequest): Promise<CreateResult> {
    const config = loadConfig(this.env);
    let admitted: string | null = null;
    try {
      return await createInObject(
        {
          tenant: this.tenant,
          config,
          log: configLogger(config, { request_id: request.requestId, tenant_id: this.tenant.id }),
          admit: (r) => {
            const result = this.admitAndArm(r);
            if (result.kind === "admitted") admitted = result.taskId;
            return result;
          },
          abort: (id, now, failure) => this.abortTask(id, now, failure),
          attach: (id, publicId, upstream, now, response) =>
            this.attachUpstream(id, publicId, upstream, now, response),
          linkUploads: (id, fileIds, now) => this.linkUploads(id, fileIds, now),
        },
        request,
      );
    } finally {
      // However the attempt ended (attached, aborted, or thrown), it no longer holds its key.
      if (admitted !== null) this.running.delete(admitted);
    }
  }

  /** The upstream accepted the task: bind its ids and first state, raise the hold, keep the answer. */
  async attachUpstream(
    taskId: string,
    publicId: string,
    upstream: UpstreamTask,
    now: number,
    response?: StoredResponse,
  ): Promise<TaskRecord | null> {
    this.running.delete(taskId);
    return this.alarms.transaction(() => {
      const current = this.tasks.get(taskId);
      if (!current) return null;
      const reserved = Math.max(current.reserved, upstream.usage?.credits_reserved ?? 0);
      if (!this.tasks.attach(taskId, publicId, upstream, reserved, now)) return null;
      this.quota.attached(current, reserved, response ?? null);
      this.alarms.armBy(silentDeadline(loadConfig(this.env), now));
      return this.tasks.get(taskId);
    });
  }

  /**
   * The upstream call failed before a task id came back: the task never existed for the tenant, its
   * reservation and slot are released, and duplicates waiting on its Idempotency-Key get `failure`.
   */
  async abortTask(taskId: string, now: number, failure?: StoredResponse): Promise<void> {
    this.running.delete(taskId);
    this.alarms.transaction(() => {
      const current = this.tasks.get(taskId);
      if (current && this.tasks.abort(taskId, now)) this.quota.aborted(current, failure ?? null);
    });
  }

  /** The task a tenant knows by its public id (operators' support handle). */
  async findTask(publicId: string): Promise<TaskRecord | null> {
    return this.tasks.getByPublicId(publicId);
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
    return this.alarms.transaction(() => {
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
    const charged = this.quota.settle(record, upstream, now);
    this.outbox.taskEnded(record, upstream, now);
    this.notify(usageSettled(this.tenant, { ...record, charged }, now));
    this.files.taskEnded(record.id, now);
    this.results.taskEnded(record, upstream, now);
  }

  /**
   * The object's one alarm, shared by every concern that needs a wake-up. Each step does its due work and
   * returns when it next wants to run (null: never); the alarm is re-armed for the earliest. A step may
   * also wake the alarm early (`alarms.armBy(now)`), so no step may rely on its own alarm time surviving.
   */
  override async alarm(): Promise<void> {
    this.alarms.fired();
    const step = (run: () => Promise<number | null>) =>
      run().catch((err: unknown) => {
        console.error(JSON.stringify({ level: "error", event: "alarm_step_failed", error: String(err) }));
        return Date.now() + 30_000;
      });
    const wants = await Promise.all([
      step(() =>
        this.outbox.flush(Date.now(), loadConfig(this.env).webhookTimeoutMs, () => this.endpointGate()),
      ),
      step(() => this.quota.syncKv(Date.now())),
      step(() => this.expireFiles(Date.now())),
      step(() => this.results.step(Date.now())),
      step(() => this.reservationsStep()),
    ]);
    // The sweeper last: its retention deadline counts the ends the KV step has just mirrored.
    wants.push(await step(() => sweepStep(this.sweepDeps(), Date.now())));
    const next = Math.min(...wants.filter((t): t is number => t !== null));
    if (Number.isFinite(next)) this.alarms.armBy(next);
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

  /**
   * Admission, and — admitted — the alarm armed by the new task's `creating` deadline, in the same step.
   * The deadline counts from the object's clock: `createdAt` is the Worker's, possibly another machine's.
   */
  private admitAndArm(request: AdmitRequest): AdmitResult {
    const result = this.quota.admit(request, (id) => this.running.has(id));
    if (result.kind === "admitted") {
      this.running.add(result.taskId);
      this.alarms.armBy(creatingDeadline(loadConfig(this.env), Date.now()));
      this.reservationsAdmitted();
    }
    return result;
  }

  /** What the sweeper step of the alarm (src/tasks/sweeper.ts) works with. */
  private sweepDeps(): SweepDeps {
    const config = loadConfig(this.env);
    return {
      tasks: this.tasks,
      config,
      log: configLogger(config, { tenant_id: this.tenant.id }),
      observe: (id, upstream, at) => this.observe(id, upstream, at),
      abort: (id, at) => this.abortTask(id, at),
      purgeIdempotency: (at, limit) => this.quota.purgeExpired(at, limit),
      nextIdempotencyExpiry: () => this.quota.nextIdempotencyExpiry(),
    };
  }

  // --- Webhook delivery records (src/callbacks): written by the queue consumers, read by the admin API.

  /**
   * Records an attempt; in the same step the outbox learns that the event is settled, or when to expect more,
   * and the endpoint's health counts it (src/callbacks/health.ts). A failure that finds its endpoint disabled
   * (by this attempt or before) is recorded `held` instead of `retrying`: the event waits in the outbox for
   * a re-enable, and the consumer acks its message rather than retrying it.
   */
  async recordDelivery(entry: DeliveryEntry): Promise<DeliveryView> {
    const config = loadConfig(this.env);
    const timeoutMs = config.webhookTimeoutMs;
    return this.alarms.transaction(() => {
      const now = Date.now();
      const health =
        (entry.audience ?? "tenant") === "tenant" && entry.url !== null && entry.attempt !== null
          ? this.endpoints.attempted(
              entry.url,
              entry.outcome === "delivered",
              entry.at,
              now,
              config.webhookDisableAfterMs,
            )
          : null;
      if (health?.disabledNow) this.notify(endpointDisabled(this.tenant, health.disabledNow, now));
      const held =
        health?.disabled === true &&
        entry.outcome === "retrying" &&
        this.outbox.hold(entry.eventId, entry.url!);
      if (held) entry = { ...entry, outcome: "held", nextAttemptAt: null, error: `${entry.error}; held` };
      else
        this.outbox.attempted(
          entry.eventId,
          entry.outcome === "retrying" ? entry.nextAttemptAt : null,
          timeoutMs,
        );
      const view = this.deliveries.record(entry, now);
      // The operator hears of a tenant's event that exhausted its retries (never of its own: no loop).
      if (entry.outcome === "dead_lettered" && (entry.audience ?? "tenant") === "tenant")
        this.notify(deadLettered(this.tenant, view, Date.now()));
      return view;
    });
  }

  /** The consumer settled an event without an attempt to record (the tenant has no webhook destination). */
  async eventSettled(eventId: string): Promise<void> {
    this.outbox.attempted(eventId, null, loadConfig(this.env).webhookTimeoutMs);
  }

  async listDeliveries(
    limit: number,
    cursor?: number,
    audience: "tenant" | "operator" = "tenant",
  ): Promise<DeliveryPage> {
    return this.deliveries.list(Date.now(), limit, cursor, audience);
  }

  /** The event a delivery record belongs to, rebuilt from the ended task, to be sent again. */
  async redeliveryMessage(deliveryId: string): Promise<WebhookMessage | null> {
    const found = this.deliveries.find(deliveryId, Date.now());
    return found ? this.eventAgain(found) : null;
  }

  /**
   * A recorded event, to be sent again: an event of another kind as it was; a task's end rebuilt from the
   * ended task. Null once neither is kept.
   */
  private eventAgain({ eventId, taskId }: { eventId: string; taskId: string | null }): WebhookMessage | null {
    const kept = this.outbox.event(eventId);
    if (kept) return kept;
    const record = taskId === null ? null : this.tasks.getByPublicId(taskId);
    return record ? messageFromRecord(this.tenant, record) : null;
  }

  // --- Tenant lifecycle (src/state/retire.ts): DELETE /admin/tenants/{tenant_id} ends the incarnation here first.

  /**
   * Refuses while tasks are in flight unless `force`; otherwise wipes this object's storage and alarm and
   * the KV documents it wrote (a batch per call: call again while `kvComplete` is false).
   */
  async retire(force: boolean): Promise<RetireResult> {
    const result = await retire(
      { tenantId: this.tenant.id, storage: this.ctx.storage, kv: this.env.KV },
      force,
    );
    this.quota.forgetWindows();
    return result;
  }

  // --- Task lists (src/tasks/list.ts): GET /v1/tasks and the admin task list; indexed, never a scan.

  async listTasks(query: TaskListQuery): Promise<TaskListPage> {
    return listTasks(this.ctx.storage.sql, query);
  }

  // --- Operator's console (src/usage/daily.ts): the month's credits per day and per user, and the tenant's
  // quota state now, for GET /admin/tenants/{tenant_id}/usage/daily.

  async dailyUsage(
    monthMs: number,
    now: number,
  ): Promise<DailyRows & { tenant: ScopeState; results: ScopeStorage[] }> {
    const results = this.results.table.monthByScope(monthMs, now);
    return {
      ...readDaily(this.ctx.storage.sql, monthMs),
      tenant: this.quota.usage(null, now).tenant,
      results,
    };
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

  /** The created task `taskId` uses these files (policy.delete_uploads_after_task). */
  /** The files a task used are released when it ends (called by `create` once the task is attached). */
  private linkUploads(taskId: string, fileIds: string[], now: number): void {
    const task = this.tasks.get(taskId);
    if (task) this.files.linkTask(fileIds, taskId, task.endedAt !== null, now);
  }

  /** Alarm step: expired and released files are deleted from R2 (and EvoLink, when released early). */
  private expireFiles(now: number): Promise<number | null> {
    const tenantId = this.tenant.id;
    return this.files.expire(now, {
      r2: async (keys) => {
        if (this.env.UPLOADS) await this.env.UPLOADS.delete(keys);
      },
      upstream: (upstreamId) => deleteUpstreamFile(loadConfig(this.env), tenantId, upstreamId),
    });
  }

  // --- Kept results (src/results): the source of a result not yet in R2, deletion, stored bytes.

  /** The upstream link a result URL streams from while its copy is not in R2 (or was refused), or null. */
  async resultSource(task: string, idx: number): Promise<ResultSource | null> {
    return this.results.source(task, idx, Date.now());
  }

  /**
   * DELETE /v1/tasks/{id}: an ended task the caller may see is erased down to its accounting, and its kept
   * results end their retention now (objects deleted here at once, or by the alarm if that fails). A task
   * whose record was purged (90 days) may still have kept results: those go too.
   */
  async deleteTask(
    taskId: string,
    sub: string | null,
    now: number,
  ): Promise<"deleted" | "in_flight" | "not_found"> {
    const outcome = this.alarms.transaction(() => {
      const record = this.tasks.get(taskId);
      if (record && sub !== null && record.sub !== sub) return "not_found";
      if (record && record.endedAt === null) return "in_flight";
      const marked = record ? this.tasks.markDeleted(taskId, now) : false;
      const results = this.results.endRetention(taskId, now);
      return marked || results > 0 ? "deleted" : "not_found";
    });
    if (outcome === "deleted")
      await this.results.expire(now).catch((err: unknown) => {
        console.error(JSON.stringify({ level: "error", event: "result_delete_failed", error: String(err) }));
      });
    return outcome;
  }

  /** A task by its public id, for the operator: its record and the state of each of its kept results. */
  async adminTask(publicId: string): Promise<{ record: TaskRecord; resultStates: ResultState[] } | null> {
    const record = this.tasks.getByPublicId(publicId);
    return record && { record, resultStates: this.results.table.ofTask(record.id).map((r) => r.state) };
  }

  // --- Task event streams (src/events): open streams counted per tenant and per user, in memory only.

  private readonly eventStreams = new StreamLeases();

  /** Takes a slot for a stream that opens, or refuses with the limit that is full. */
  async eventStreamOpen(request: LeaseRequest): Promise<LeaseAnswer> {
    return this.eventStreams.take(request, Date.now(), EVENT_STREAM_RETRY_AFTER_MAX_S);
  }

  /** A stream closed: its slot is free. */
  async eventStreamClose(stream: string): Promise<void> {
    this.eventStreams.release(stream);
  }

  // --- Storage usage (src/usage): uploads and kept results read together, so GET /v1/usage and the operator's
  // ledger make one object call for both.

  /** Files and monthly upload bytes, and kept-result bytes and byte-days of the month of `now`. */
  async storageUsage(
    sub: string | null,
    now: number,
  ): Promise<{
    uploads: { tenant: UploadUsage; user: UploadUsage | null };
    results: { tenant: StorageUsage; user: StorageUsage | null };
  }> {
    return {
      uploads: this.files.usage(sub, now),
      results: {
        tenant: this.results.table.usage(null, monthStart(now), now),
        user: sub === null ? null : this.results.table.usage(sub, monthStart(now), now),
      },
    };
  }

  /** The month's uploads and every scope's kept-result bytes and byte-days (the operator's ledger). */
  async storageMonth(
    monthMs: number,
    now: number,
  ): Promise<{ uploads: { scope: string; files: number; bytes: number }[]; results: ScopeStorage[] }> {
    return {
      uploads: this.files.month(monthOf(monthMs)),
      results: this.results.table.monthByScope(monthMs, now),
    };
  }

  // --- Estimates (src/generations/estimate.ts): admission's decision over the current counters, nothing written.

  /** What `admit` would refuse a request for now (null: it would be admitted); reserves nothing. */
  async checkAdmission(request: AdmissionCheck): Promise<Refusal | null> {
    return this.quota.check(request);
  }

  // --- Alerts and the operator's events (src/quota thresholds, src/callbacks outbox; docs/quotas.md).

  /**
   * An event of another kind than a task's end, inside the step that caused it: into the outbox, or — the
   * operator's, with no OPERATOR_WEBHOOK_URL — a structured log line.
   */
  private notify(message: WebhookMessage): void {
    const config = loadConfig(this.env);
    this.outbox.emit(
      message,
      config.operatorWebhook !== null,
      configLogger(config, { tenant_id: this.tenant.id }),
    );
  }

  /** A scope reached a threshold of its monthly credits (src/quota/counters.ts), once per month. */
  private thresholdReached(r: ThresholdReached): void {
    this.notify(thresholdMessage(this.tenant, r, Date.now()));
  }

  // --- Open reservations reported to the Registry (issue 18): the operator's balance check compares the
  // EvoLink balance with the credits every tenant's tasks in flight may still draw (src/registry-object/).

  /** The open reserved credits (units) last reported, and when; memory only: a new instance reports afresh. */
  private reservationsReported: { units: number | null; at: number } = { units: null, at: 0 };
  private reservationsReportQueued = false;

  /**
   * After an admission: a report, at most one per RESERVATIONS_REPORT_MS, sent off the create RPC's path
   * (waitUntil) and reading the sum only when it is sent, so a burst of admissions costs one report with
   * the burst's final figure.
   */
  private reservationsAdmitted(): void {
    if (this.reservationsReportQueued) return;
    this.reservationsReportQueued = true;
    const wait = Math.max(0, this.reservationsReported.at + RESERVATIONS_REPORT_MS - Date.now());
    this.ctx.waitUntil(
      new Promise((resolve) => setTimeout(resolve, wait)).then(() => {
        this.reservationsReportQueued = false;
        return this.reportReservations();
      }),
    );
  }

  /** Alarm step: a task's end (or an abort) changed the figure since the last report; never asks for a wake. */
  private async reservationsStep(): Promise<number | null> {
    if (!this.reservationsReportQueued) await this.reportReservations();
    return null;
  }

  /** Sends the tenant's open reserved credits to the Registry when they changed since the last report. */
  private async reportReservations(): Promise<void> {
    const units = this.ctx.storage.sql
      .exec<{ units: number }>(
        "SELECT COALESCE(SUM(reserved), 0) AS units FROM quota_months WHERE scope = 'tenant'",
      )
      .one().units;
    if (units === this.reservationsReported.units) return;
    const at = Date.now();
    this.reservationsReported = { units, at };
    try {
      await registry(this.env).reportReservations(this.tenant, fromUnits(units), at);
    } catch (err) {
      // Sent again by the next admission or alarm: the figure is not marked as reported.
      this.reservationsReported = { units: null, at };
      console.error(
        JSON.stringify({
          level: "error",
          event: "reservations_report_failed",
          tenant_id: this.tenant.id,
          error: String(err),
        }),
      );
    }
  }

  // --- Callback ingress (issue 19): the upstream's report of a task, in one call (src/callbacks/report.ts).

  /** The task's record, the upstream's confirmation of a live task and its observation, in one round trip. */
  async callbackReport(taskId: string, requestId: string): Promise<CallbackReport> {
    const config = loadConfig(this.env);
    return reportInObject(
      {
        config,
        log: configLogger(config, { request_id: requestId, tenant_id: this.tenant.id }),
        getTask: (id) => this.tasks.get(id),
        observe: (id, upstream, now) => this.observe(id, upstream, now),
      },
      taskId,
      requestId,
    );
  }

  // --- Webhook endpoint health (issue 16): health per endpoint, re-enable and release, recovery, the test event
  // (src/callbacks/health.ts; docs/callbacks.md, "Endpoint health"). Read by the admin API and the portal.

  /** Every endpoint the tenant's events went to in the last 24 h, and its webhook URL (first). */
  async webhookHealth(): Promise<EndpointHealth[]> {
    const policy = await this.webhookPolicy();
    return this.endpoints.view(Date.now(), policy.webhookUrl, this.outbox.held());
  }

  /**
   * Re-enables endpoint `url` and releases the events held for it, oldest first, at most
   * WEBHOOK_RELEASE_PER_SECOND (or the tenant's `webhook.max_per_second`, if lower) per second.
   */
  async enableWebhook(url: string): Promise<{ released: number }> {
    const { maxPerSecond } = await this.webhookPolicy();
    const spacingMs = 1000 / Math.min(maxPerSecond ?? Infinity, WEBHOOK_RELEASE_PER_SECOND);
    const released = this.alarms.transaction(() => {
      const now = Date.now();
      const held = this.outbox.heldFor(url);
      const start = this.endpoints.enable(url, now, held, spacingMs);
      return this.outbox.release(url, start, spacingMs);
    });
    this.healthLog().info("webhook_endpoint_enabled", { url, released });
    return { released };
  }

  /**
   * Every event of the tenant's whose attempts since `since` ended `failed` or `dead_lettered` (and that
   * was not delivered after) is queued once more, through the outbox, with its original webhook-id; an event
   * still in the outbox (retrying, held, queued) is left alone.
   */
  async recoverDeliveries(since: number): Promise<{ queued: number }> {
    const queued = this.alarms.transaction(() => {
      const pending = this.outbox.eventIds();
      let n = 0;
      for (const failed of this.deliveries.failedSince(since)) {
        if (pending.has(failed.eventId)) continue;
        const message = this.eventAgain(failed);
        if (!message) continue;
        this.outbox.requeue(message);
        n++;
      }
      return n;
    });
    this.healthLog().info("webhook_deliveries_recovered", { since: new Date(since).toISOString(), queued });
    return { queued };
  }

  /** A `webhook.test` event to the tenant's webhook URL, through the outbox like every other. */
  async sendTestEvent(): Promise<{ event_id: string }> {
    const message = testEvent(this.tenant, Date.now());
    this.alarms.transaction(() => this.notify(message));
    return { event_id: message.event_id };
  }

  /**
   * The next send slot of throttled endpoint `url`, `1000 / perSecond` ms after the last one handed out: the
   * consumer waits for it before POSTing, so a queue batch reaches the receiver at the tenant's rate. Memory
   * only: a restarted object starts afresh (at worst one batch early).
   */
  async sendSlot(url: string, perSecond: number): Promise<number> {
    const slot = Math.max(Date.now(), this.sendSlots.get(url) ?? 0);
    this.sendSlots.set(url, slot + 1000 / perSecond);
    return slot;
  }

  private readonly sendSlots = new Map<string, number>();

  /** The outbox's gate for one flush (src/callbacks/health.ts), over the tenant's current webhook settings. */
  private async endpointGate(): Promise<EndpointGate> {
    return this.endpoints.gate(await this.webhookPolicy());
  }

  /** The tenant's webhook URL and throttle, read as the consumer reads them (isolate-cached KV). */
  private async webhookPolicy(): Promise<EndpointPolicy> {
    const record = await getTenant(this.env, this.tenant.id);
    const webhook = record?.incarnation === this.tenant.incarnation ? record.webhook : undefined;
    return { webhookUrl: webhook?.url ?? null, maxPerSecond: webhook?.max_per_second ?? null };
  }

  private healthLog() {
    return configLogger(loadConfig(this.env), { tenant_id: this.tenant.id });
  }
}
