// Tenant JWT verification, free of hono: the token's `iss` picks the tenant, then that tenant's keys,
// allow-listed algorithms, issuer, audience and time claims decide. `now` is passed in; keys are injectable.
// A token already verified against the same tenant version and key set is not checked again
// (src/auth/verified-tokens.ts).
import { type JWTPayload, jwtVerify } from "jose";
import { JWT_CLOCK_TOLERANCE_S, MAX_SUBJECT_LENGTH } from "../config/constants";
import type { JwsAlg, Tenant } from "../tenants/schema";
import { allowedAlgorithms } from "./algorithms";
import { reasonFromJoseError } from "./jose-errors";
import { type KeyResolver, type TenantKeys, sharedKeyResolver } from "./keys";
import type { AuthFailureReason } from "./reasons";
import { readUnverified } from "./token";
import { type VerifiedTokenCache, sharedVerifiedTokens } from "./verified-tokens";

export interface VerifyDeps {
  /** The tenant that owns `issuer`, or null. May throw (storage down): that is not an auth failure. */
  findTenantByIssuer(issuer: string): Promise<Tenant | null>;
  /** The current time in milliseconds. */
  now: number;
  /** Defaults to the isolate's shared resolver. */
  keys?: KeyResolver;
  /** DEV_ALLOW_LOCAL_URLS: a loopback `jwks_uri` is fetched (default false: public https only). */
  allowLocalUrls?: boolean;
  /** Defaults to the isolate's cache of verified tokens. */
  verified?: VerifiedTokenCache;
}

export type VerifyResult =
  | { ok: true; tenant: Tenant; sub: string | undefined; claims: JWTPayload }
  | { ok: false; reason: AuthFailureReason; tenantId?: string };

type Checked = { ok: true; claims: JWTPayload } | { ok: false; reason: AuthFailureReason };

export async function verifyTenantToken(token: string, deps: VerifyDeps): Promise<VerifyResult> {
  const unverified = readUnverified(token);
  if (!unverified.ok) return unverified;
  const tenant = await deps.findTenantByIssuer(unverified.issuer);
  if (!tenant) return { ok: false, reason: "issuer_unknown" };
  const fail = (reason: AuthFailureReason): VerifyResult => ({ ok: false, reason, tenantId: tenant.id });
  if (tenant.auth.issuer !== unverified.issuer) return fail("issuer_mismatch");

  const algorithms = allowedAlgorithms(tenant.auth);
  if (!(algorithms as string[]).includes(unverified.alg)) return fail("alg_not_allowed");

  const resolver = deps.keys ?? sharedKeyResolver;
  const policy = { allowLocalUrls: deps.allowLocalUrls ?? false };
  const keys = await resolver.keysFor(tenant, deps.now, policy);
  if (!keys.ok) return fail(keys.reason);
  const verified = deps.verified ?? sharedVerifiedTokens;
  const against = { tenant, keys: keyIdentity(keys) };
  const known = await verified.get(token, against, deps.now);
  if (known) return accepted(tenant, known);
  let checked = await checkToken(token, keys, tenant, algorithms, deps.now);
  if (!checked.ok && checked.reason === "kid_unknown" && unverified.kid !== undefined) {
    // The key server may have rotated: one refetch (unless one happened within the cool-down), one retry.
    const refreshed = await resolver.refreshAfterUnknownKid(tenant, deps.now, policy);
    if (refreshed?.ok) {
      checked = await checkToken(token, refreshed, tenant, algorithms, deps.now);
      against.keys = keyIdentity(refreshed);
    }
  }
  if (!checked.ok) return fail(checked.reason);
  const result = accepted(tenant, checked.claims);
  // Only a token that passed every check is remembered, with the key set that verified it.
  if (result.ok) await verified.set(token, against, checked.claims);
  return result;
}

/** The key set's identity: the resolver makes a new one per tenant record version and per key fetch. */
const keyIdentity = (keys: Extract<TenantKeys, { ok: true }>): object =>
  keys.kind === "jwks" ? keys.getKey : keys.key;

/** The checks on verified claims that depend on the tenant record (which a cache hit also matched). */
function accepted(tenant: Tenant, claims: JWTPayload): VerifyResult {
  const sub = claims.sub;
  // Without `sub` a token speaks for the whole tenant (its backend); a tenant whose tokens all come from an
  // identity provider says so, and a user token that lost its `sub` cannot gain that reach.
  if (sub === undefined && tenant.auth.require_sub === true)
    return { ok: false, reason: "sub_missing", tenantId: tenant.id };
  return { ok: true, tenant, sub, claims };
}

/** Signature, `alg`, `iss`, `aud`, `exp` (required), `nbf` and `iat` against one key set or secret. */
async function checkToken(
  token: string,
  keys: Extract<TenantKeys, { ok: true }>,
  tenant: Tenant,
  algorithms: JwsAlg[],
  now: number,
): Promise<Checked> {
  const options = {
    algorithms,
    issuer: tenant.auth.issuer,
    audience: tenant.auth.audience,
    requiredClaims: ["exp"],
    clockTolerance: JWT_CLOCK_TOLERANCE_S,
    currentDate: new Date(now),
  };
  let claims: JWTPayload;
  try {
    const verified =
      keys.kind === "jwks"
        ? await jwtVerify(token, keys.getKey, options)
        : await jwtVerify(token, keys.key, options);
    claims = verified.payload;
  } catch (err) {
    return { ok: false, reason: reasonFromJoseError(err) };
  }
  return checkExtraClaims(claims, now);
}

/** What jose leaves to the caller: `iat` not in the future, and a usable `sub`. */
export function checkExtraClaims(claims: JWTPayload, now: number): Checked {
  // jose has already checked that a present `iat` is a number.
  if (claims.iat !== undefined && claims.iat > Math.floor(now / 1000) + JWT_CLOCK_TOLERANCE_S) {
    return { ok: false, reason: "issued_in_future" };
  }
  const sub: unknown = claims.sub;
  if (sub !== undefined && (typeof sub !== "string" || sub === "" || sub.length > MAX_SUBJECT_LENGTH)) {
    return { ok: false, reason: "claim_invalid" };
  }
  return { ok: true, claims };
}
