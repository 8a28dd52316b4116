// Translates what jose throws during `jwtVerify` into our failure reasons. jose's messages are never passed
// on: only the stable `code` and the failing claim name are read.
import { errors } from "jose";
import type { AuthFailureReason } from "./reasons";

export function reasonFromJoseError(err: unknown): AuthFailureReason {
  if (!(err instanceof errors.JOSEError)) {
    // Key import rejects bad key material with a DOMException or TypeError (e.g. an RSA modulus under
    // 2048 bits). Whatever it is, the token is refused: fail closed, and point at the tenant's keys.
    return "key_unusable";
  }
  switch (err.code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return err instanceof errors.JWTClaimValidationFailed ? claimReason(err) : "claim_invalid";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature_invalid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "alg_not_allowed";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "kid_unknown";
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "kid_ambiguous";
    case "ERR_JWK_INVALID":
    case "ERR_JWKS_INVALID":
      return "key_unusable";
    default:
      // ERR_JWS_INVALID, ERR_JWT_INVALID and anything newer: the token itself is not a well-formed JWT.
      return "malformed";
  }
}

function claimReason(err: InstanceType<typeof errors.JWTClaimValidationFailed>): AuthFailureReason {
  switch (err.claim) {
    case "exp":
      return err.reason === "missing" ? "exp_missing" : "claim_invalid";
    case "nbf":
      return err.reason === "check_failed" ? "not_yet_valid" : "claim_invalid";
    case "aud":
      return "audience_mismatch";
    case "iss":
      return "issuer_mismatch";
    default:
      return "claim_invalid";
  }
}
