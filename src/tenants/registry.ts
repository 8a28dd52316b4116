// The one Durable Object that writes tenant records. Its SQLite holds the authoritative record and the
// issuer claims (so two tenants can never claim one issuer: KV has no compare-and-set); KV is its read
// replica, written from SQLite in version order (src/tenants/replica.ts) and read by the request path.
// Each admin write is one call: the object reads its own record, merges, claims, bumps the version and
// commits before its first await, so concurrent writes of one tenant serialize and lose nothing.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { migrate } from "../state/migrations";
import { buildRecord, newIncarnation, rotated } from "./records";
import { REGISTRY_MIGRATIONS, RegistryTable, type TenantSummary } from "./registry-table";
import { replicatePass } from "./replica";
import type { Tenant, TenantInput } from "./schema";
import { generateWebhookSecret } from "./view";

/** A failed replication is retried by the alarm after this long (then with the runtime's alarm backoff). */
const REPLICA_RETRY_MS = 5_000;

export type RegistryPutResult =
  | {
      ok: true;
      tenant: Tenant;
      created: boolean;
      /** The issuer the tenant held before, when this write changed it. */
      previousIssuer: string | null;
      /** A webhook secret the Registry generated for this write (shown once). */
      generatedSecret: string | null;
      /** False when the KV replica could not be written yet (the alarm retries). */
      replicated: boolean;
    }
  | { ok: false; conflictWith: string };

export type RegistryRotateResult =
  { ok: true; tenant: Tenant; secret: string; replicated: boolean } | { ok: false };

export type RegistryStatusResult = { ok: true; tenant: Tenant; replicated: boolean } | { ok: false };

export type RegistryDeleteResult = { ok: true; tenant: Tenant; replicated: boolean } | { ok: false };

export interface RegistryListQuery {
  q: string | null;
  cursor: string | null;
  limit: number;
}

export interface RegistryListPage {
  tenants: TenantSummary[];
  cursor: string | null;
}

/** The Registry's RPC methods, as Worker-side code sees them (src/tenants/registry-client.ts). */
export interface RegistryApi {
  putTenant(id: string, input: TenantInput): Promise<RegistryPutResult>;
  rotateWebhookSecret(id: string): Promise<RegistryRotateResult>;
  setStatus(id: string, status: Tenant["status"]): Promise<RegistryStatusResult>;
  deleteTenant(id: string, incarnation: string): Promise<RegistryDeleteResult>;
  getTenant(id: string): Promise<Tenant | null>;
  replicaVersion(id: string): Promise<number>;
  listTenants(query: RegistryListQuery): Promise<RegistryListPage>;
}

export class Registry extends DurableObject<Env> implements RegistryApi {
  private readonly store: RegistryTable;
  /** Replication passes run one after another, so KV writes happen in commit order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, REGISTRY_MIGRATIONS);
    this.store = new RegistryTable(ctx.storage.sql);
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

  /**
   * Ends the tenant's incarnation: record and issuer claim go, then its KV documents. `incarnation` guards
   * against deleting a tenant re-created since the caller read it.
   */
  async deleteTenant(id: string, incarnation: string): Promise<RegistryDeleteResult> {
    const existing = this.store.get(id);
    if (!existing || existing.incarnation !== incarnation) return { ok: false };
    this.store.remove(id);
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

  /** Replicates what a failed or interrupted pass left behind (`replicate` re-arms while work remains). */
  override async alarm(): Promise<void> {
    await this.replicate();
  }

  private commit(record: Tenant): void {
    this.store.save(record);
    this.armRetry();
  }

  /** Armed in the same step as the write, so a write whose replication is interrupted is still copied. */
  private armRetry(): void {
    void this.ctx.storage.setAlarm(Date.now() + REPLICA_RETRY_MS);
  }

  /** Queues a replication pass after those already queued; true when KV caught up with SQLite. */
  private replicate(): Promise<boolean> {
    const pass = this.chain.then(async () => {
      try {
        const done = await replicatePass(this.env.KV, this.store);
        // Checked and acted on without an await in between, so no write can slip past unarmed.
        if (done) void this.ctx.storage.deleteAlarm();
        else void this.ctx.storage.setAlarm(Date.now());
        return done;
      } catch (err) {
        console.error(JSON.stringify({ level: "error", event: "tenant_replica_failed", error: String(err) }));
        void this.ctx.storage.setAlarm(Date.now() + REPLICA_RETRY_MS);
        return false;
      }
    });
    this.chain = pass;
    return pass;
  }
}
