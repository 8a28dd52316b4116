// The one Durable Object that writes tenant records. Its SQLite holds the authoritative record and the
// issuer claims (so two tenants can never claim one issuer: KV has no compare-and-set); KV is its read
// replica, written from SQLite in version order (src/tenants/replica.ts) and read by the request path.
// Each admin write is one call: the object reads its own record, merges, claims, bumps the version and
// commits before its first await, so concurrent writes of one tenant serialize and lose nothing.
// It also keeps the operator's own account (./balance.ts): the open reservations every tenant object
// reports, the last read of the EvoLink balance, and an outbox for the operator's events about no tenant.
// One alarm serves all three: the replication retry, the outbox, the balance check.
import { DurableObject } from "cloudflare:workers";
import {
  DeliveryLog,
  type DeliveryEntry,
  type DeliveryPage,
  type DeliveryView,
  REGISTRY_DELIVERIES,
} from "../callbacks/delivery-log";
import type { WebhookMessage } from "../callbacks/message";
import { Outbox } from "../callbacks/outbox";
import { REGISTRY_EVENTS, type RegistryOutbox } from "../callbacks/owner";
import { loadConfig } from "../config/env";
import type { Env } from "../env";
import { configLogger } from "../http/log";
import { AlarmClock } from "../state/alarm";
import type { TenantRef } from "../state/client";
import { migrate } from "../state/migrations";
import { buildRecord, newIncarnation, portalRevoked, rotated, withWebhookUrl } from "../tenants/records";
import type {
  RegistryApi,
  RegistryDeleteResult,
  RegistryListPage,
  RegistryListQuery,
  RegistryPutResult,
  RegistryRotateResult,
  RegistryStatusResult,
  UpstreamStatus,
} from "../tenants/registry";
import { RegistryTable } from "../tenants/registry-table";
import { replicatePass } from "../tenants/replica";
import type { Tenant, TenantInput } from "../tenants/schema";
import { generateWebhookSecret } from "../tenants/view";
import { getUpstreamCredits } from "../upstream/credits";
import { type BalanceDeps, BalanceWatch } from "./balance";
import { REGISTRY_OBJECT_MIGRATIONS } from "./migrations";

/** A failed replication is retried by the alarm after this long (then with the runtime's alarm backoff). */
const REPLICA_RETRY_MS = 5_000;

export class Registry extends DurableObject<Env> implements RegistryApi, RegistryOutbox {
  private readonly store: RegistryTable;
  /** Replication passes run one after another, so KV writes happen in commit order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The one alarm: replication retries, the outbox and the balance check arm it through here. */
  private readonly alarms: AlarmClock;
  private readonly outbox: Outbox;
  private readonly deliveries: DeliveryLog;
  private readonly balance: BalanceWatch;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, REGISTRY_OBJECT_MIGRATIONS);
    this.store = new RegistryTable(ctx.storage.sql);
    this.alarms = new AlarmClock(ctx.storage);
    void ctx.blockConcurrencyWhile(() => this.alarms.load());
    this.outbox = new Outbox(ctx.storage, env.WEBHOOKS, REGISTRY_EVENTS, this.alarms);
    this.deliveries = new DeliveryLog(ctx.storage.sql, REGISTRY_DELIVERIES);
    this.balance = new BalanceWatch(ctx.storage.sql, this.alarms);
  }

  /** Admin PUT: creates the tenant (new incarnation) or replaces its client fields. */
  async putTenant(id: string, input: TenantInput): Promise<RegistryPutResult> {
    const owner = this.store.issuerOwner(input.auth.issuer);
    if (owner !== null && owner !== id) return { ok: false, conflictWith: owner };
    const existing = this.store.get(id);
    const now = Date.now();
    const { record, generated } = buildRecord(
      id,
      input,
      existing,
      { incarnation: existing?.incarnation ?? newIncarnation(), version: this.store.nextVersion(), now },
      generateWebhookSecret(),
    );
    this.commit(record);
    const previous = existing?.auth.issuer ?? null;
    return {
      ok: true,
      tenant: record,
      created: existing === null,
      previousIssuer: previous !== null && previous !== record.auth.issuer ? previous : null,
      generatedSecret: generated ?? null,
      replicated: await this.replicate(),
    };
  }

  /** POST /admin/tenants/{tenant_id}/webhook-secret/rotate: a new secret over the current record. */
  async rotateWebhookSecret(id: string): Promise<RegistryRotateResult> {
    const existing = this.store.get(id);
    if (!existing) return { ok: false };
    const secret = generateWebhookSecret();
    const record = rotated(existing, secret, { version: this.store.nextVersion(), now: Date.now() });
    this.commit(record);
    return { ok: true, tenant: record, secret, replicated: await this.replicate() };
  }

  /** POST /admin/tenants/{tenant_id}/suspend|resume: the status over the current record (unchanged: no write). */
  async setStatus(id: string, status: Tenant["status"]): Promise<RegistryStatusResult> {
    const existing = this.store.get(id);
    if (!existing) return { ok: false };
    if (existing.status === status) return { ok: true, tenant: existing, replicated: true };
    const now = Date.now();
    const record: Tenant = {
      ...existing,
      status,
      version: this.store.nextVersion(),
      updated_at: new Date(now).toISOString(),
    };
    this.commit(record);
    return { ok: true, tenant: record, replicated: await this.replicate() };
  }

  /** POST /admin/tenants/{tenant_id}/portal-links/revoke: links issued until now are refused (src/portal). */
  async revokePortalLinks(id: string): Promise<RegistryStatusResult> {
    const existing = this.store.get(id);
    if (!existing) return { ok: false };
    const record = portalRevoked(existing, { version: this.store.nextVersion(), now: Date.now() });
    this.commit(record);
    return { ok: true, tenant: record, replicated: await this.replicate() };
  }

  /** PUT /portal/api/{tenant_id}/webhook: the URL over the current record of that incarnation (src/portal). */
  async setWebhookUrl(id: string, incarnation: string, url: string): Promise<RegistryStatusResult> {
    const existing = this.store.get(id);
    if (!existing || existing.incarnation !== incarnation) return { ok: false };
    const record = withWebhookUrl(existing, url, { version: this.store.nextVersion(), now: Date.now() });
    this.commit(record);
    return { ok: true, tenant: record, replicated: await this.replicate() };
  }

  /**
   * Ends the tenant's incarnation: record and issuer claim go, then its KV documents. `incarnation` guards
   * against deleting a tenant re-created since the caller read it.
   */
  async deleteTenant(id: string, incarnation: string): Promise<RegistryDeleteResult> {
    const existing = this.store.get(id);
    if (!existing || existing.incarnation !== incarnation) return { ok: false };
    this.store.remove(id);
    this.balance.forget(id);
    this.armRetry();
    return { ok: true, tenant: existing, replicated: await this.replicate() };
  }

  /** The authoritative record (admin reads). */
  async getTenant(id: string): Promise<Tenant | null> {
    return this.store.get(id);
  }

  /** The version of a tenant's record that KV holds now (0: none). */
  async replicaVersion(id: string): Promise<number> {
    return this.store.replicaVersion(id);
  }

  /** Tenants by id, `limit` at a time; `cursor` is the last id of the previous page. */
  async listTenants(query: RegistryListQuery): Promise<RegistryListPage> {
    const rows = this.store.list(query.q, query.cursor, query.limit + 1);
    const page = rows.slice(0, query.limit);
    return {
      tenants: page,
      cursor: rows.length > query.limit ? page[page.length - 1]!.id : null,
    };
  }

  // --- The operator's account (./balance.ts): open reservations, the upstream balance, its alert.

  async reportReservations(tenant: TenantRef, credits: number, at: number): Promise<void> {
    // Only the tenant's current incarnation counts: a late report of a deleted one must not come back.
    if (this.store.incarnationOf(tenant.id) !== tenant.incarnation) return;
    this.alarms.transaction(() => {
      this.balance.report(tenant, credits, at);
      this.balance.touch(Date.now(), this.checkMs());
    });
  }

  async upstreamStatus(refresh: boolean): Promise<UpstreamStatus> {
    if (refresh) await this.balance.check(this.balanceDeps());
    else this.alarms.transaction(() => this.balance.touch(Date.now(), this.checkMs()));
    return this.balance.status(loadConfig(this.env));
  }

  // --- The outbox of the operator's events about no tenant (src/callbacks/owner.ts calls these).

  async recordDelivery(entry: DeliveryEntry): Promise<DeliveryView> {
    const timeoutMs = loadConfig(this.env).webhookTimeoutMs;
    const next = entry.outcome === "retrying" ? entry.nextAttemptAt : null;
    return this.alarms.transaction(() => {
      this.outbox.attempted(entry.eventId, next, timeoutMs);
      return this.deliveries.record(entry, Date.now());
    });
  }

  async eventSettled(eventId: string): Promise<void> {
    this.outbox.attempted(eventId, null, loadConfig(this.env).webhookTimeoutMs);
  }

  async listDeliveries(limit: number, cursor?: number): Promise<DeliveryPage> {
    return this.deliveries.list(Date.now(), limit, cursor, "operator");
  }

  async redeliveryMessage(deliveryId: string): Promise<WebhookMessage | null> {
    const found = this.deliveries.find(deliveryId, Date.now());
    return found ? this.outbox.event(found.eventId) : null;
  }

  // --- The one alarm.

  /**
   * Each step does its due work and returns when it next wants to run (null: never); the alarm is re-armed
   * for the earliest. Replication first: a pass that caught up sets the alarm to exactly what the other
   * steps still need (or none), which their answers then only bring forward.
   */
  override async alarm(): Promise<void> {
    this.alarms.fired();
    const config = loadConfig(this.env);
    const step = (run: () => Promise<number | null>) =>
      run().catch((err: unknown) => {
        console.error(JSON.stringify({ level: "error", event: "alarm_step_failed", error: String(err) }));
        return Date.now() + 30_000;
      });
    const wants = await Promise.all([
      step(async () => ((await this.replicate()) ? null : Date.now() + REPLICA_RETRY_MS)),
      step(() => this.outbox.flush(Date.now(), config.webhookTimeoutMs)),
      step(() => this.balance.step(Date.now(), this.balanceDeps())),
    ]);
    const next = Math.min(...wants.filter((t): t is number => t !== null));
    if (Number.isFinite(next)) this.alarms.armBy(next);
  }

  private checkMs(): number {
    return loadConfig(this.env).upstreamCreditsCheckSeconds * 1000;
  }

  private balanceDeps(): BalanceDeps {
    const config = loadConfig(this.env);
    const log = configLogger(config, { object: "registry" });
    return {
      config,
      log,
      read: () => getUpstreamCredits({ config, log, requestId: `registry-${crypto.randomUUID()}` }),
      // With no OPERATOR_WEBHOOK_URL the operator's event is a structured log line (Outbox.emit).
      emit: (message) => this.outbox.emit(message, config.operatorWebhook !== null, log),
      transaction: (fn) => this.alarms.transaction(fn),
    };
  }

  /** The earliest deadline of the outbox and the balance check, apart from replication (null: none). */
  private otherDeadline(): number | null {
    const outbox = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM webhook_outbox")
      .one().next;
    const due = this.balance.due();
    const all = [outbox, due].filter((t): t is number => t !== null);
    return all.length === 0 ? null : Math.min(...all);
  }

  private commit(record: Tenant): void {
    this.store.save(record);
    this.armRetry();
  }

  /** Armed in the same step as the write, so a write whose replication is interrupted is still copied. */
  private armRetry(): void {
    this.alarms.armBy(Date.now() + REPLICA_RETRY_MS);
  }

  /** Queues a replication pass after those already queued; true when KV caught up with SQLite. */
  private replicate(): Promise<boolean> {
    const pass = this.chain.then(async () => {
      try {
        const done = await replicatePass(this.env.KV, this.store);
        // Checked and acted on without an await in between, so no write can slip past unarmed. Caught up,
        // the alarm keeps only what the outbox and the balance check need.
        if (done) this.alarms.reset(this.otherDeadline());
        else this.alarms.armBy(Date.now());
        return done;
      } catch (err) {
        console.error(JSON.stringify({ level: "error", event: "tenant_replica_failed", error: String(err) }));
        this.alarms.armBy(Date.now() + REPLICA_RETRY_MS);
        return false;
      }
    });
    this.chain = pass;
    return pass;
  }
}
