// Tokens this isolate has verified, so a client that sends the same bearer token on every request pays for
// its signature check once (an ES256 check is most of the auth step's CPU). Keyed by the token's SHA-256,
// so no token is kept in memory; an entry holds the verified claims and is used only while all of these
// still hold:
// - the tenant record is the one it was verified against (id, incarnation, version): any admin write to
//   the tenant, a key rotation among them, drops it as soon as this isolate sees the new record (within
//   TENANT_CACHE_TTL_MS, as for every other use of the record);
// - the keys are the very key set it was verified with (the resolver builds a new one per record version
//   and per fetch of a `jwks_uri`), so a refetched key set drops it too;
// - the token's own time window (`nbf`/`iat` to `exp`) holds at `now`.
// Only a token whose check passed is ever stored: a forged one has another hash and is checked in full.
// Bounded in entries and in bytes; the least recently used go first.
import type { JWTPayload } from "jose";
import { JWT_CLOCK_TOLERANCE_S } from "../config/constants";
import type { Tenant } from "../tenants/schema";

/** What a cached check was made against: the tenant record's version and the key set's identity. */
export interface VerifiedAgainst {
  tenant: Pick<Tenant, "id" | "incarnation" | "version">;
  /** The key set object the check used (compared by identity). */
  keys: object;
}

interface Entry {
  version: string;
  keys: object;
  claims: JWTPayload;
  /** Milliseconds: usable from `from` until before `until`. */
  from: number;
  until: number;
  bytes: number;
}

export interface VerifiedTokenCacheOptions {
  maxEntries?: number;
  maxBytes?: number;
}

export const VERIFIED_TOKENS_MAX_ENTRIES = 10_000;
export const VERIFIED_TOKENS_MAX_BYTES = 4 * 1024 * 1024;
/** A token whose claims are larger than this is not cached (it would crowd out the others). */
const MAX_ENTRY_BYTES = 16 * 1024;
/** The hash key, the entry's fields and the Map's own slot, roughly. */
const ENTRY_OVERHEAD_BYTES = 200;

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? VERIFIED_TOKENS_MAX_ENTRIES;
    this.maxBytes = options.maxBytes ?? VERIFIED_TOKENS_MAX_BYTES;
  }

  /** The claims of `token`, when it was verified against the same tenant version and key set. */
  async get(token: string, against: VerifiedAgainst, now: number): Promise<JWTPayload | null> {
    if (this.entries.size === 0) return null;
    const key = await tokenHash(token);
    const hit = this.entries.get(key);
    if (!hit) return null;
    if (hit.version !== versionOf(against.tenant) || hit.keys !== against.keys || now >= hit.until) {
      this.drop(key, hit);
      return null;
    }
    if (now < hit.from) return null;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.claims;
  }

  /** Remembers claims that have just been verified (never call it for anything else). */
  async set(token: string, against: VerifiedAgainst, claims: JWTPayload): Promise<void> {
    if (typeof claims.exp !== "number") return;
    const bytes = ENTRY_OVERHEAD_BYTES + approximateBytes(token);
    if (bytes > MAX_ENTRY_BYTES) return;
    const key = await tokenHash(token);
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const starts = [claims.nbf, claims.iat].filter((t): t is number => typeof t === "number");
    const from = starts.length ? (Math.max(...starts) - JWT_CLOCK_TOLERANCE_S) * 1000 : -Infinity;
    const entry: Entry = {
      version: versionOf(against.tenant),
      keys: against.keys,
      claims,
      from,
      until: claims.exp * 1000,
      bytes,
    };
    this.entries.set(key, entry);
    this.bytes += bytes;
    for (const [oldest, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.drop(oldest, e);
    }
  }

  /** Entries and bytes held now (for tests and the docs' figures). */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/** The isolate's cache: what verification uses unless a test injects its own. */
export const sharedVerifiedTokens = new VerifiedTokenCache();

const versionOf = (t: VerifiedAgainst["tenant"]) => `${t.id}~${t.incarnation}~${t.version}`;

/** The decoded payload's size, about: its base64url segment is 4/3 of it (the claims are kept parsed). */
function approximateBytes(token: string): number {
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  return Math.ceil(((second - first - 1) * 3) / 4) * 2;
}

async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
