// The benchmark's tenants and tokens: one tenant per signing algorithm with an inline JWKS (keys minted here
// with jose), quotas set far above what a run can use (so nothing is refused, while every check still runs),
// and one long-lived token each. Created through the admin API like any operator would.
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export const BENCH_AUDIENCE = "reelgate-bench";
export const BENCH_SUB = "bench-user";
const UNREACHABLE = {
  requests_per_minute: 100_000_000,
  max_concurrent_tasks: 100_000_000,
  monthly_credits: 1e12,
};

/**
 * Creates (or replaces) tenant `bench-<alg>` and returns a token valid for a day. With `limits: false` the
 * tenant has no quotas: admission then only reserves credits, with no rate or concurrency check.
 */
export async function benchTenant(gatewayUrl, adminToken, alg, { limits = true } = {}) {
  const id = `bench-${alg.toLowerCase()}`;
  const issuer = `https://${id}.bench.reelgate.test/`;
  const kid = `${id}-key`;
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const res = await fetch(`${gatewayUrl}/admin/tenants/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: `Benchmark tenant (${alg})`,
      auth: { issuer, audience: BENCH_AUDIENCE, jwks: { keys: [jwk] }, algorithms: [alg] },
      ...(limits ? { quotas: UNREACHABLE, user_quotas: UNREACHABLE } : {}),
      // The request path is what is measured: results pass through, so no copy (src/results) runs on the
      // tenant objects' alarms during a run (bench:results measures the copy on its own).
      results: { retention_days: 0 },
    }),
  });
  if (!res.ok) throw new Error(`creating tenant ${id} failed: ${res.status} ${await res.text()}`);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg, kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(BENCH_AUDIENCE)
    .setSubject(BENCH_SUB)
    .setIssuedAt()
    .setExpirationTime("1d")
    .sign(privateKey);
  return { id, alg, token };
}

// The local, loopback-only secrets every benchmark's gateway and simulator are started with.
export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789";
export const BENCH_SIM_KEY = "sim-bench-key-0123456789";
export const BENCH_SIGNING_SECRET = "bench-signing-secret-0123456789abcdef0123";
const HS256_SECRET = "bench-tenant-hs256-secret-0123456789abcdef";

/**
 * Creates (or replaces) the HS256 tenant `id` (issuer `https://<id>.reelgate.test/`, audience `reelgate`, plus
 * `fields`) and returns a token for it, valid for an hour: with `sub` (default BENCH_SUB), or none with null.
 */
export async function hs256Tenant(gatewayUrl, id, fields, { sub = BENCH_SUB } = {}) {
  const issuer = `https://${id}.reelgate.test/`;
  const res = await fetch(`${gatewayUrl}/admin/tenants/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ...fields, auth: { issuer, audience: "reelgate", hs256_secret: HS256_SECRET } }),
  });
  if (!res.ok) throw new Error(`tenant ${id}: ${res.status} ${await res.text()}`);
  const token = new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(issuer)
    .setAudience("reelgate");
  if (sub !== null) token.setSubject(sub);
  return token.setExpirationTime("1h").sign(new TextEncoder().encode(HS256_SECRET));
}
