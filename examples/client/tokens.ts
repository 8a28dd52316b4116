// Minting tenant JWTs on your backend with jose: ES256 with a key whose public half the gateway knows
// (your JWKS, registered as `auth.jwks` or `auth.jwks_uri`), or HS256 with the tenant's shared secret
// (`auth.hs256_secret`, for partners without a key server). Never mint in a browser.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

export interface Claims {
  /** The tenant's registered issuer (`auth.issuer`). */
  issuer: string;
  /** One of the tenant's registered audiences (`auth.audience`). */
  audience: string;
  /** Your end user's id: their tasks, task list and per-user quotas follow it. Leave out for tenant-wide. */
  sub?: string;
  /** Token lifetime; keep it short (minutes). */
  ttlSeconds?: number;
}

function unsigned(claims: Claims): SignJWT {
  const jwt = new SignJWT({})
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.ttlSeconds ?? 300));
  return claims.sub === undefined ? jwt : jwt.setSubject(claims.sub);
}

/** ES256, with `kid` naming the key in your JWKS. */
export function mintEs256(privateKey: CryptoKey, kid: string, claims: Claims): Promise<string> {
  return unsigned(claims).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).sign(privateKey);
}

/** HS256 with the tenant's shared secret (at least 32 bytes). */
export function mintHs256(secret: string, claims: Claims): Promise<string> {
  return unsigned(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

/** A new ES256 key pair and the JWKS to register (or publish at your jwks_uri). Keep the private key secret. */
export async function newEs256Key(kid: string): Promise<{ privateKey: CryptoKey; jwks: { keys: JWK[] } }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwks: { keys: [{ ...jwk, kid, alg: "ES256", use: "sig" }] } };
}
