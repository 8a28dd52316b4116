// Reads tenant records from KV (parsed with zod) and keeps them in isolate memory for a bounded time, so
// the request path does no KV read per request once warm. KV is the Registry's read replica: the Registry
// Durable Object is the only writer (src/tenants/registry.ts) and admin reads go to it.
import { TENANT_CACHE_TTL_MS } from "../config/constants";
import type { Env } from "../env";
import { objectName, type TenantRef } from "../state/client";
import { type Tenant, TenantSchema } from "./schema";

export const tenantKey = (id: string) => `tenant:${id}`;
export const issuerKey = (issuer: string) => `issuer:${issuer}`;

/** What KV `list` returns per tenant, so the admin listing needs no read per tenant. */
export function tenantMetadata(t: Tenant): { name: string; status: string; issuer: string; version: number } {
  return {
    name: t.name.slice(0, 200),
    status: t.status,
    issuer: t.auth.issuer.slice(0, 400),
    version: t.version,
  };
}

/**
 * A KV copy older than one this isolate already saw (same incarnation, lower version) is stale: KV can
 * serve a location's cached copy for a while after the Registry replaced it. The newer one is kept.
 */
export function isStaleCopy(copy: Tenant, seen: Tenant | null): boolean {
  return seen !== null && seen.incarnation === copy.incarnation && seen.version > copy.version;
}

/** Tenants an isolate holds at once; the oldest entry goes first. */
export const MAX_CACHED = 2_000;
/**
 * Unknown issuers remembered at once. They are kept apart from the tenants, so a flood of made-up issuers
 * (any client can send one) only ever pushes out other made-up issuers, never a real tenant.
 */
export const MAX_CACHED_UNKNOWN = 1_000;
/** Unknown issuers are remembered briefly, so garbage tokens cannot turn into a KV read each. */
const NEGATIVE_TTL_MS = 5_000;
/** KV refuses a longer key (it throws: a 500); no tenant's issuer index can have one. */
const KV_MAX_KEY_BYTES = 512;

const byIssuer = new Map<string, { tenant: Tenant; at: number }>();
const unknownIssuers = new Map<string, number>();
/** Incarnations seen current (or not), by `{id}~{incarnation}`: the file URL route's check. */
const incarnations = new Map<string, { current: boolean; at: number }>();

/** Inserts `key`, dropping the oldest entry first when `map` is full. */
function remember<V>(map: Map<string, V>, max: number, key: string, value: V): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

function parseTenant(raw: unknown): Tenant | null {
  if (raw === null) return null;
  const parsed = TenantSchema.safeParse(raw);
  if (!parsed.success) {
    console.error(
      JSON.stringify({ level: "error", event: "tenant_record_invalid", issues: parsed.error.issues.length }),
    );
    return null;
  }
  return parsed.data;
}

export async function getTenant(env: Env, id: string): Promise<Tenant | null> {
  return parseTenant(await env.KV.get(tenantKey(id), "json"));
}

export async function findTenantByIssuer(env: Env, issuer: string, now = Date.now()): Promise<Tenant | null> {
  const hit = byIssuer.get(issuer);
  if (hit && now - hit.at < TENANT_CACHE_TTL_MS) return hit.tenant;
  const missedAt = unknownIssuers.get(issuer);
  if (missedAt !== undefined && now - missedAt < NEGATIVE_TTL_MS) return null;
  if (new TextEncoder().encode(issuerKey(issuer)).length > KV_MAX_KEY_BYTES) return null;
  const id = await env.KV.get(issuerKey(issuer));
  const tenant = id ? await getTenant(env, id) : null;
  // The index may briefly point at a tenant whose issuer changed: trust the record, not the index.
  let result = tenant && tenant.auth.issuer === issuer ? tenant : null;
  if (result && hit && isStaleCopy(result, hit.tenant)) {
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "tenant_replica_stale",
        tenant_id: result.id,
        version: result.version,
        seen: hit.tenant.version,
      }),
    );
    result = hit.tenant;
  }
  if (result) {
    unknownIssuers.delete(issuer);
    remember(byIssuer, MAX_CACHED, issuer, { tenant: result, at: now });
  } else {
    byIssuer.delete(issuer);
    remember(unknownIssuers, MAX_CACHED_UNKNOWN, issuer, now);
  }
  return result;
}

/** Drops isolate-cached copies after an admin write (other isolates converge within TENANT_CACHE_TTL_MS). */
export function forgetTenant(...issuers: string[]): void {
  for (const i of issuers) {
    byIssuer.delete(i);
    unknownIssuers.delete(i);
  }
}

/**
 * Whether `t` is the tenant's current life: its record exists and carries that incarnation. For URLs that
 * carry an incarnation and no token (the signed file URLs), so they die with the tenant. Cached per isolate
 * as the issuer index is; an answer of "no" only briefly, as KV may not yet show a tenant just created.
 */
export async function isCurrentIncarnation(env: Env, t: TenantRef, now = Date.now()): Promise<boolean> {
  const key = objectName(t);
  const hit = incarnations.get(key);
  if (hit && now - hit.at < (hit.current ? TENANT_CACHE_TTL_MS : NEGATIVE_TTL_MS)) return hit.current;
  const current = (await getTenant(env, t.id))?.incarnation === t.incarnation;
  remember(incarnations, MAX_CACHED, key, { current, at: now });
  return current;
}

/** Drops the isolate's cached verdict on one incarnation (its tenant was deleted). */
export function forgetIncarnation(t: TenantRef): void {
  incarnations.delete(objectName(t));
}
