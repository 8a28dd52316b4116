// The cheap, unverified first look at a bearer token: bounded size, three base64url segments, a JSON header
// and payload. It yields only what is needed to pick the tenant and its keys (`iss`, `alg`, `kid`); nothing
// read here is trusted until the signature has been verified with that tenant's keys.
import { decodeJwt, decodeProtectedHeader } from "jose";
import { MAX_TOKEN_BYTES } from "../config/constants";
import { MAX_ISSUER_LENGTH } from "../tenants/schema";
import type { AuthFailureReason } from "./reasons";

/** header.payload.signature, each non-empty base64url (an empty signature is how `alg: none` travels). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface UnverifiedToken {
  issuer: string;
  alg: string;
  kid: string | undefined;
}

export type ReadTokenResult =
  | ({ ok: true } & UnverifiedToken)
  | {
      ok: false;
      reason: Extract<
        AuthFailureReason,
        "token_too_large" | "malformed" | "issuer_missing" | "issuer_too_long"
      >;
    };

export function readUnverified(token: string): ReadTokenResult {
  // The pattern admits ASCII only, so string length is byte length once it has matched.
  if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: "token_too_large" };
  if (!COMPACT_JWS.test(token)) return { ok: false, reason: "malformed" };
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof header.alg !== "string") return { ok: false, reason: "malformed" };
  if (header.kid !== undefined && typeof header.kid !== "string") return { ok: false, reason: "malformed" };
  if (typeof payload.iss !== "string" || payload.iss === "") return { ok: false, reason: "issuer_missing" };
  // No tenant can own a longer issuer, and the lookup's KV key would pass KV's 512-byte limit (a throw, a 500).
  if (payload.iss.length > MAX_ISSUER_LENGTH) return { ok: false, reason: "issuer_too_long" };
  return { ok: true, issuer: payload.iss, alg: header.alg, kid: header.kid };
}
