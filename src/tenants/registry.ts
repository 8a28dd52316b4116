// The Registry's RPC interface as Worker-side code sees it (./registry-client.ts): what each call answers.
// The Durable Object class that implements it sits above every domain (src/registry-object/registry.ts), so
// nothing here imports it.
import type { TenantRef } from "../state/client";
import type { TenantSummary } from "./registry-table";
import type { Tenant, TenantInput } from "./schema";

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
  /** The tenant portal (src/portal): every link of the tenant issued until now stops working. */
  revokePortalLinks(id: string): Promise<RegistryStatusResult>;
  /** The tenant portal's `edit_webhook`: the URL over the current record, if it is still `incarnation`'s. */
  setWebhookUrl(id: string, incarnation: string, url: string): Promise<RegistryStatusResult>;
  deleteTenant(id: string, incarnation: string): Promise<RegistryDeleteResult>;
  getTenant(id: string): Promise<Tenant | null>;
  replicaVersion(id: string): Promise<number>;
  listTenants(query: RegistryListQuery): Promise<RegistryListPage>;
  /**
   * A tenant object's open reserved credits now (its tasks in flight), as of `at` (its clock): one row per
   * tenant incarnation; an older report than the one kept, or one from an incarnation that is not the
   * tenant's current one, changes nothing.
   */
  reportReservations(tenant: TenantRef, credits: number, at: number): Promise<void>;
  /** GET /admin/upstream: the operator's balance as last read (`refresh`: read it now first). */
  upstreamStatus(refresh: boolean): Promise<UpstreamStatus>;
}

/** GET /admin/upstream's body (a fixed contract: the console is built against it). */
export interface UpstreamStatus {
  balance: { remaining_credits: number | null; used_credits: number; read_at: string } | null;
  open_reservations: number;
  alert: { below: number | null; low: boolean; since: string | null };
  check_every_seconds: number;
  last_error: { code: string; at: string } | null;
}
