// A single Durable Object that owns tenant writes, so two tenants can never claim one issuer (KV has no
// compare-and-set). Its SQLite table is the source of truth for issuer claims; it then writes the tenant
// record and the issuer index to KV, which serves the request path (see docs/storage-schema.md).
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { Tenant } from "./schema";
import { issuerKey, tenantKey, tenantMetadata } from "./store";

/** `conflictWith` names the tenant holding the issuer; otherwise the write happened. */
export interface RegistryPutResult {
  conflictWith?: string;
  created: boolean;
  previousIssuer: string | null;
}

export class Registry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS issuers (issuer TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)",
    );
  }

  /**
   * Claims `tenant.auth.issuer` for `tenant.id` and stores the record; refuses an issuer another tenant
   * holds. The claim is checked and written before the first await: a Durable Object only interleaves
   * requests at awaits on I/O, so concurrent claims of one issuer cannot both pass.
   */
  async putTenant(tenant: Tenant): Promise<RegistryPutResult> {
    const sql = this.ctx.storage.sql;
    const owner = sql
      .exec<{ tenant_id: string }>("SELECT tenant_id FROM issuers WHERE issuer = ?", tenant.auth.issuer)
      .toArray()[0]?.tenant_id;
    if (owner && owner !== tenant.id) return { conflictWith: owner, created: false, previousIssuer: null };
    const previousIssuer =
      sql.exec<{ issuer: string }>("SELECT issuer FROM issuers WHERE tenant_id = ?", tenant.id).toArray()[0]
        ?.issuer ?? null;
    sql.exec("DELETE FROM issuers WHERE tenant_id = ?", tenant.id);
    sql.exec("INSERT INTO issuers (issuer, tenant_id) VALUES (?, ?)", tenant.auth.issuer, tenant.id);

    await this.env.KV.put(tenantKey(tenant.id), JSON.stringify(tenant), { metadata: tenantMetadata(tenant) });
    await this.env.KV.put(issuerKey(tenant.auth.issuer), tenant.id);
    if (previousIssuer && previousIssuer !== tenant.auth.issuer)
      await this.env.KV.delete(issuerKey(previousIssuer));
    return { created: previousIssuer === null, previousIssuer };
  }

  /** Removes the tenant and releases its issuer. Returns false when there was no such tenant. */
  async deleteTenant(tenantId: string): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const issuer = sql
      .exec<{ issuer: string }>("SELECT issuer FROM issuers WHERE tenant_id = ?", tenantId)
      .toArray()[0]?.issuer;
    if (!issuer) return false;
    sql.exec("DELETE FROM issuers WHERE tenant_id = ?", tenantId);
    await this.env.KV.delete(issuerKey(issuer));
    await this.env.KV.delete(tenantKey(tenantId));
    return true;
  }
}

export function registry(env: Env): DurableObjectStub<Registry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
}
