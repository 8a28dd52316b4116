// Verification keys per tenant, held in isolate memory so the hot path imports nothing twice. Inline key sets
// and HMAC secrets are cached per tenant record (id + updated_at). Fetched key sets follow src/ema/jwks.ts:
// fresh for JWKS_FRESH_MS, refetched on an unknown `kid` at most once per cool-down, served stale while the
// key server is down (up to JWKS_MAX_STALE_MS), and concurrent refreshes share one fetch. The clock is passed in.
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import {
  JWKS_COOLDOWN_MS,
  JWKS_FETCH_TIMEOUT_MS,
  JWKS_FRESH_MS,
  JWKS_MAX_BYTES,
  JWKS_MAX_STALE_MS,
  KEY_CACHE_MAX_TENANTS,
} from "../config/constants";
import type { Tenant } from "../tenants/schema";
import { type FetchFn, fetchJwks } from "./jwks-fetch";
import { LruMap } from "./lru";
import type { AuthFailureReason } from "./reasons";

export type KeyFailureReason = Extract<
  AuthFailureReason,
  "jwks_unavailable" | "jwks_invalid" | "key_unusable" | "tenant_misconfigured"
>;

export type TenantKeys =
  | { ok: true; kind: "jwks"; getKey: JWTVerifyGetKey }
  | { ok: true; kind: "secret"; key: CryptoKey }
  | { ok: false; reason: KeyFailureReason };

/** What the deployment allows a key fetch: DEV_ALLOW_LOCAL_URLS (the same rule the admin API checked with). */
export interface KeyFetchPolicy {
  allowLocalUrls: boolean;
}

const PUBLIC_ONLY: KeyFetchPolicy = { allowLocalUrls: false };

export interface KeyResolver {
  /** The tenant's current keys. May fetch its `jwks_uri` (bounded, coalesced); never throws. */
  keysFor(tenant: Tenant, now: number, policy?: KeyFetchPolicy): Promise<TenantKeys>;
  /**
   * After a token named a `kid` the held set lacks: refetch the tenant's `jwks_uri` unless a fetch was
   * attempted within the cool-down. Null when nothing was refetched (cool-down, or keys that are not fetched).
   */
  refreshAfterUnknownKid(tenant: Tenant, now: number, policy?: KeyFetchPolicy): Promise<TenantKeys | null>;
}

export interface KeyResolverOptions {
  /** Defaults to globalThis.fetch, looked up at call time. */
  fetch?: FetchFn;
  fetchTimeoutMs?: number;
  freshMs?: number;
  cooldownMs?: number;
  maxStaleMs?: number;
  maxBytes?: number;
  /** Tenants whose keys are held at once; the least recently used are dropped beyond it. */
  maxTenants?: number;
}

interface RemoteEntry {
  uri: string;
  allowLocal: boolean;
  set?: { getKey: JWTVerifyGetKey; fetchedAt: number };
  /** When the last fetch started, successful or not: the cool-down counts from here. */
  lastAttemptAt?: number;
  lastFailure?: KeyFailureReason;
  inflight?: Promise<void>;
}

export function createKeyResolver(options: KeyResolverOptions = {}): KeyResolver {
  const settings = {
    fetch: options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init)),
    timeoutMs: options.fetchTimeoutMs ?? JWKS_FETCH_TIMEOUT_MS,
    freshMs: options.freshMs ?? JWKS_FRESH_MS,
    cooldownMs: options.cooldownMs ?? JWKS_COOLDOWN_MS,
    maxStaleMs: options.maxStaleMs ?? JWKS_MAX_STALE_MS,
    maxBytes: options.maxBytes ?? JWKS_MAX_BYTES,
  };
  const maxTenants = options.maxTenants ?? KEY_CACHE_MAX_TENANTS;
  const local = new LruMap<{ version: string; keys: Promise<TenantKeys> }>(maxTenants);
  const remote = new LruMap<RemoteEntry>(maxTenants);

  function localKeys(tenant: Tenant): Promise<TenantKeys> {
    const version = tenant.updated_at;
    const hit = local.get(tenant.id);
    if (hit && hit.version === version) return hit.keys;
    const keys = buildLocalKeys(tenant.auth);
    local.set(tenant.id, { version, keys });
    return keys;
  }

  function remoteEntry(tenant: Tenant, uri: string, policy: KeyFetchPolicy): RemoteEntry {
    const hit = remote.get(tenant.id);
    if (hit && hit.uri === uri && hit.allowLocal === policy.allowLocalUrls) return hit;
    const entry: RemoteEntry = { uri, allowLocal: policy.allowLocalUrls };
    remote.set(tenant.id, entry);
    return entry;
  }

  function current(entry: RemoteEntry, now: number): TenantKeys {
    if (entry.set && now - entry.set.fetchedAt <= settings.maxStaleMs) {
      return { ok: true, kind: "jwks", getKey: entry.set.getKey };
    }
    return { ok: false, reason: entry.lastFailure ?? "jwks_unavailable" };
  }

  function coolingDown(entry: RemoteEntry, now: number): boolean {
    return entry.lastAttemptAt !== undefined && now - entry.lastAttemptAt < settings.cooldownMs;
  }

  async function refresh(entry: RemoteEntry, now: number): Promise<void> {
    if (!entry.inflight) {
      entry.lastAttemptAt = now;
      entry.inflight = fetchInto(entry, now).finally(() => {
        entry.inflight = undefined;
      });
    }
    await entry.inflight;
  }

  async function fetchInto(entry: RemoteEntry, now: number): Promise<void> {
    const result = await fetchJwks(entry.uri, { ...settings, allowLocal: entry.allowLocal });
    if (!result.ok) {
      entry.lastFailure = result.reason;
      return;
    }
    try {
      entry.set = { getKey: createLocalJWKSet(result.jwks), fetchedAt: now };
      entry.lastFailure = undefined;
    } catch {
      entry.lastFailure = "jwks_invalid";
    }
  }

  return {
    async keysFor(tenant, now, policy = PUBLIC_ONLY) {
      const uri = tenant.auth.jwks_uri;
      if (keySourceCount(tenant.auth) !== 1) return { ok: false, reason: "tenant_misconfigured" };
      if (uri === undefined) return localKeys(tenant);
      const entry = remoteEntry(tenant, uri, policy);
      const fresh = entry.set !== undefined && now - entry.set.fetchedAt < settings.freshMs;
      // A key server that just failed is not asked again inside the cool-down: stale keys serve meanwhile.
      if (!fresh && (entry.inflight || !coolingDown(entry, now))) await refresh(entry, now);
      return current(entry, now);
    },

    async refreshAfterUnknownKid(tenant, now, policy = PUBLIC_ONLY) {
      const uri = tenant.auth.jwks_uri;
      if (uri === undefined || keySourceCount(tenant.auth) !== 1) return null;
      const entry = remoteEntry(tenant, uri, policy);
      if (!entry.inflight && coolingDown(entry, now)) return null;
      await refresh(entry, now);
      return current(entry, now);
    },
  };
}

/** The isolate's resolver: what the middleware uses unless a test injects its own. */
export const sharedKeyResolver: KeyResolver = createKeyResolver();

function keySourceCount(auth: Tenant["auth"]): number {
  return [auth.jwks, auth.jwks_uri, auth.hs256_secret].filter((s) => s !== undefined).length;
}

async function buildLocalKeys(auth: Tenant["auth"]): Promise<TenantKeys> {
  if (auth.jwks) {
    try {
      return { ok: true, kind: "jwks", getKey: createLocalJWKSet(auth.jwks) };
    } catch {
      return { ok: false, reason: "key_unusable" };
    }
  }
  if (auth.hs256_secret !== undefined) {
    try {
      const raw = new TextEncoder().encode(auth.hs256_secret);
      const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
        "verify",
      ]);
      return { ok: true, kind: "secret", key };
    } catch {
      return { ok: false, reason: "key_unusable" };
    }
  }
  return { ok: false, reason: "tenant_misconfigured" };
}
