// Which JWS algorithms a tenant's tokens may use. The token's own `alg` never widens this: the list comes
// from the tenant record and the key type, and an HMAC algorithm is never paired with public keys.
import { ASYMMETRIC_ALGS, HMAC_ALGS, type JwsAlg, type Tenant } from "../tenants/schema";

const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGS);
const HMAC: ReadonlySet<string> = new Set(HMAC_ALGS);

/**
 * The tenant's allow-list intersected with what its key type permits: `hs256_secret` → HS256 only; a key set
 * (inline or fetched) → asymmetric algorithms only. An empty result means no token can verify.
 */
export function allowedAlgorithms(auth: Tenant["auth"]): JwsAlg[] {
  const permitted = auth.hs256_secret !== undefined ? HMAC : ASYMMETRIC;
  const requested: readonly JwsAlg[] =
    auth.algorithms ?? (auth.hs256_secret !== undefined ? HMAC_ALGS : ASYMMETRIC_ALGS);
  return requested.filter((alg) => permitted.has(alg));
}
