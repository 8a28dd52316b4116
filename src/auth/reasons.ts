// Why a bearer token was refused. The reason is for operators (the log); the client only ever sees a
// generic 401 `invalid_token`. The exhaustive switch below makes a new reason impossible to leave unmapped.
import type { LogLevel } from "../http/log";

export type AuthFailureReason =
  /** No `Authorization: Bearer …` header at all. */
  | "missing_token"
  /** Larger than MAX_TOKEN_BYTES: refused before any parsing. */
  | "token_too_large"
  /** Not three base64url segments, or a header/payload that is not a JSON object. */
  | "malformed"
  /** The payload has no string `iss`, so no tenant can be looked up. */
  | "issuer_missing"
  /** `iss` longer than any tenant's issuer may be (MAX_ISSUER_LENGTH): refused before the lookup. */
  | "issuer_too_long"
  /** No tenant claims the token's `iss`. */
  | "issuer_unknown"
  /** The tenant found does not own the issuer (defensive: the lookup is by issuer). */
  | "issuer_mismatch"
  /** `alg` (including `none`) outside the tenant's allow-list, or unusable with its key type. */
  | "alg_not_allowed"
  /** No key in the tenant's set matches the token's `kid` (after at most one refetch). */
  | "kid_unknown"
  /** The token has no `kid` and more than one key in the set could verify it. */
  | "kid_ambiguous"
  | "signature_invalid"
  | "expired"
  | "exp_missing"
  /** `nbf` is in the future beyond the clock tolerance. */
  | "not_yet_valid"
  /** `iat` is in the future beyond the clock tolerance. */
  | "issued_in_future"
  | "audience_mismatch"
  /** A registered claim of the wrong type (non-numeric `exp`, non-string or overlong `sub`, …). */
  | "claim_invalid"
  /** The token has no `sub` and the tenant sets `auth.require_sub`. */
  | "sub_missing"
  /** The tenant's key server failed (network, timeout, non-2xx) and no usable stale set is held. */
  | "jwks_unavailable"
  /** The tenant's key server answered with something that is not a bounded, valid public JWKS. */
  | "jwks_invalid"
  /** A key in the tenant's set could not be imported (bad key data, RSA modulus under 2048 bits, …). */
  | "key_unusable"
  /** The stored tenant has no single key source (zero or several of jwks / jwks_uri / hs256_secret). */
  | "tenant_misconfigured";

/** Who has to act for the failure to go away: the caller, the tenant's own configuration, or its key server. */
export type AuthFailureFault = "client" | "tenant" | "key_server";

export interface AuthFailureLog {
  event: "auth_failed";
  level: LogLevel;
  fault: AuthFailureFault;
}

/** How a refusal is logged. Client mistakes are routine (`info`); a tenant or key-server problem is `warn`. */
export function authFailureLog(reason: AuthFailureReason): AuthFailureLog {
  switch (reason) {
    case "missing_token":
    case "token_too_large":
    case "malformed":
    case "issuer_missing":
    case "issuer_too_long":
    case "issuer_unknown":
    case "issuer_mismatch":
    case "alg_not_allowed":
    case "kid_unknown":
    case "kid_ambiguous":
    case "signature_invalid":
    case "expired":
    case "exp_missing":
    case "not_yet_valid":
    case "issued_in_future":
    case "audience_mismatch":
    case "claim_invalid":
    case "sub_missing":
      return { event: "auth_failed", level: "info", fault: "client" };
    case "key_unusable":
    case "tenant_misconfigured":
      return { event: "auth_failed", level: "warn", fault: "tenant" };
    case "jwks_unavailable":
    case "jwks_invalid":
      return { event: "auth_failed", level: "warn", fault: "key_server" };
    default:
      return unreachable(reason);
  }
}

function unreachable(reason: never): never {
  throw new Error(`unmapped auth failure reason: ${String(reason)}`);
}
