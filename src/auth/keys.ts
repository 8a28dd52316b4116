// Verification keys per tenant, held in isolate memory so the hot path imports nothing twice. Inline key sets
// and HMAC secrets are cached per tenant record (id + updated_at). Fetched key sets are fresh for
// JWKS_FRESH_MS, refetched on an unknown `kid` at most once per cool-down, served stale while the key server
// is down (up to JWKS_MAX_STALE_MS), and concurrent refreshes share one fetch. The clock is passed in.
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

interface Settings {
  fetch: FetchFn;
  timeoutMs: number;
  freshMs: number;
  cooldownMs: number;
  maxStaleMs: number;
  maxBytes: number;
}

function settingsOf(options: KeyResolverOptions): Settings {
  return {
    fetch: options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init)),
    timeoutMs: options.fetchTimeoutMs ?? JWKS_FETCH_TIMEOUT_MS,
    freshMs: options.freshMs ?? JWKS_FRESH_MS,
    cooldownMs: options.cooldownMs ?? JWKS_COOLDOWN_MS,
    maxStaleMs: options.maxStaleMs ?? JWKS_MAX_STALE_MS,
    maxBytes: options.maxBytes ?? JWKS_MAX_BYTES,
  };
}

/** Inline key sets and HMAC secrets, built once per tenant record version. */
class LocalKeys {
  private readonly cache: LruMap<{ version: string; keys: Promise<TenantKeys> }>;

  constructor(maxTenants: number) {
    this.cache = new LruMap(maxTenants);
  }

  get(tenant: Tenant): Promise<TenantKeys> {
    const version = tenant.updated_at;
    const hit = this.cache.get(tenant.id);
    if (hit && hit.version === version) return hit.keys;
    const keys = buildLocalKeys(tenant.auth);
    this.cache.set(tenant.id, { version, keys });
    return keys;
  }
}

/** Fetched key sets per tenant: freshness, the cool-down, stale service and one shared fetch at a time. */
class RemoteKeySets {
  private readonly entries: LruMap<RemoteEntry>;

  constructor(
    private readonly settings: Settings,
    maxTenants: number,
  ) {
    this.entries = new LruMap(maxTenants);
  }

  entry(tenant: Tenant, uri: string, policy: KeyFetchPolicy): RemoteEntry {
    const hit = this.entries.get(tenant.id);
    if (hit && hit.uri === uri && hit.allowLocal === policy.allowLocalUrls) return hit;
    const entry: RemoteEntry = { uri, allowLocal: policy.allowLocalUrls };
    this.entries.set(tenant.id, entry);
    return entry;
  }

  fresh(entry: RemoteEntry, now: number): boolean {
    return entry.set !== undefined && now - entry.set.fetchedAt < this.settings.freshMs;
  }

  current(entry: RemoteEntry, now: number): TenantKeys {
    if (entry.set && now - entry.set.fetchedAt <= this.settings.maxStaleMs) {
      return { ok: true, kind: "jwks", getKey: entry.set.getKey };
    }
    return { ok: false, reason: entry.lastFailure ?? "jwks_unavailable" };
  }

  coolingDown(entry: RemoteEntry, now: number): boolean {
    return entry.lastAttemptAt !== undefined && now - entry.lastAttemptAt < this.settings.cooldownMs;
  }

  async refresh(entry: RemoteEntry, now: number): Promise<void> {
    if (!entry.inflight) {
      entry.lastAttemptAt = now;
      entry.inflight = this.fetchInto(entry, now).finally(() => {
        entry.inflight = undefined;
      });
    }
    await entry.inflight;
  }

  private async fetchInto(entry: RemoteEntry, now: number): Promise<void> {
    const result = await fetchJwks(entry.uri, { ...this.settings, allowLocal: entry.allowLocal });
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
}

export function createKeyResolver(options: KeyResolverOptions = {}): KeyResolver {
  const maxTenants = options.maxTenants ?? KEY_CACHE_MAX_TENANTS;
  const local = new LocalKeys(maxTenants);
  const remote = new RemoteKeySets(settingsOf(options), maxTenants);
  return {
    async keysFor(tenant, now, policy = PUBLIC_ONLY) {
      const uri = tenant.auth.jwks_uri;
      if (keySourceCount(tenant.auth) !== 1) return { ok: false, reason: "tenant_misconfigured" };
      if (uri === undefined) return local.get(tenant);
      const entry = remote.entry(tenant, uri, policy);
      // A key server that just failed is not asked again inside the cool-down: stale keys serve meanwhile.
      if (!remote.fresh(entry, now) && (entry.inflight || !remote.coolingDown(entry, now)))
        await remote.refresh(entry, now);
      return remote.current(entry, now);
    },

    async refreshAfterUnknownKid(tenant, now, policy = PUBLIC_ONLY) {
      const uri = tenant.auth.jwks_uri;
      if (uri === undefined || keySourceCount(tenant.auth) !== 1) return null;
      const entry = remote.entry(tenant, uri, policy);
      if (!entry.inflight && remote.coolingDown(entry, now)) return null;
      await remote.refresh(entry, now);
      return remote.current(entry, now);
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
