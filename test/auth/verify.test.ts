// verifyTenantToken on its happy paths and its time and audience rules, with an in-memory issuer index,
// a fixed clock and a fresh key resolver per test (no isolate-wide cache leaks between tests).
import { describe, expect, it } from "vitest";
import { JWT_CLOCK_TOLERANCE_S } from "../../src/config/constants";
import { createKeyResolver } from "../../src/auth/keys";
import { verifyTenantToken } from "../../src/auth/verify";
import {
  claimsFor,
  hsSecret,
  issuerDirectory,
  makeKeyPair,
  makeTenant,
  publicJwks,
  signToken,
  type TestAlg,
} from "../fixtures/keys";

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW_S = NOW / 1000;

function deps(...tenants: Parameters<typeof issuerDirectory>) {
  return { findTenantByIssuer: issuerDirectory(...tenants), now: NOW, keys: createKeyResolver() };
}

describe("verifyTenantToken: happy paths", () => {
  it.each<TestAlg>(["ES256", "RS256", "EdDSA", "PS256", "ES384"])(
    "accepts an %s token from an inline JWKS",
    async (alg) => {
      const key = await makeKeyPair(alg);
      const tenant = makeTenant({
        issuer: "https://id.acme.example/",
        audience: "reelgate",
        jwks: publicJwks(key),
      });
      const token = await signToken(key, claimsFor(tenant, { sub: "user-42" }, NOW));

      const result = await verifyTenantToken(token, deps(tenant));

      expect(result).toMatchObject({ ok: true, sub: "user-42", tenant: { id: "acme" } });
      if (result.ok)
        expect(result.claims).toMatchObject({ iss: "https://id.acme.example/", aud: "reelgate" });
    },
  );

  it("accepts an HS256 token signed with the tenant's secret", async () => {
    const secret = hsSecret();
    const tenant = makeTenant({ issuer: "acme-hs", audience: "reelgate", hs256_secret: secret });
    const token = await signToken(secret, claimsFor(tenant, { sub: "u1" }, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: true, sub: "u1" });
  });

  it("picks the key by kid when the set holds several", async () => {
    const [a, b] = await Promise.all([makeKeyPair("ES256", "a"), makeKeyPair("ES256", "b")]);
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(a, b) });

    const token = await signToken(b, claimsFor(tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: true });
  });

  it("accepts a token without kid when exactly one key in the set fits its alg", async () => {
    const [es, rs] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("RS256")]);
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(es, rs) });

    const token = await signToken(es, claimsFor(tenant, {}, NOW), { kid: undefined });

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: true });
  });

  it("reports kid_ambiguous for a kid-less token when several keys could verify it", async () => {
    const [a, b] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("ES256")]);
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(a, b) });

    const token = await signToken(a, claimsFor(tenant, {}, NOW), { kid: undefined });

    expect(await verifyTenantToken(token, deps(tenant))).toEqual({
      ok: false,
      reason: "kid_ambiguous",
      tenantId: "acme",
    });
  });

  it("accepts a token whose aud matches one of the tenant's audiences", async () => {
    const key = await makeKeyPair("ES256");
    const tenant = makeTenant({
      issuer: "acme",
      audience: ["reelgate", "reelgate-staging"],
      jwks: publicJwks(key),
    });

    const single = await signToken(key, claimsFor(tenant, { aud: "reelgate-staging" }, NOW));
    const list = await signToken(key, claimsFor(tenant, { aud: ["other-api", "reelgate"] }, NOW));

    expect(await verifyTenantToken(single, deps(tenant))).toMatchObject({ ok: true });
    expect(await verifyTenantToken(list, deps(tenant))).toMatchObject({ ok: true });
  });

  it("accepts a token without sub: the principal has no end user", async () => {
    const key = await makeKeyPair("ES256");
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(key) });
    const token = await signToken(key, claimsFor(tenant, { sub: undefined }, NOW));

    const result = await verifyTenantToken(token, deps(tenant));

    expect(result).toMatchObject({ ok: true, sub: undefined });
    if (result.ok) expect("sub" in result.claims).toBe(false);
  });

  it("refuses a token without sub when the tenant sets auth.require_sub, and takes one with sub", async () => {
    const key = await makeKeyPair("ES256");
    const tenant = makeTenant({
      issuer: "acme",
      audience: "reelgate",
      jwks: publicJwks(key),
      require_sub: true,
    });

    const anonymous = await signToken(key, claimsFor(tenant, { sub: undefined }, NOW));
    expect(await verifyTenantToken(anonymous, deps(tenant))).toEqual({
      ok: false,
      reason: "sub_missing",
      tenantId: "acme",
    });
    const user = await signToken(key, claimsFor(tenant, { sub: "user-7" }, NOW));
    expect(await verifyTenantToken(user, deps(tenant))).toMatchObject({ ok: true, sub: "user-7" });
  });

  it("finds the tenant by the token's issuer among several", async () => {
    const [ka, kb] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("ES256")]);
    const a = makeTenant(
      { issuer: "https://a.example/", audience: "reelgate", jwks: publicJwks(ka) },
      { id: "a" },
    );
    const b = makeTenant(
      { issuer: "https://b.example/", audience: "reelgate", jwks: publicJwks(kb) },
      { id: "b" },
    );

    const token = await signToken(kb, claimsFor(b, {}, NOW));

    expect(await verifyTenantToken(token, deps(a, b))).toMatchObject({ ok: true, tenant: { id: "b" } });
  });
});

describe("verifyTenantToken: time claims", () => {
  async function setup() {
    const key = await makeKeyPair("ES256");
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(key) });
    const verify = async (claims: Record<string, unknown>) =>
      verifyTenantToken(await signToken(key, claimsFor(tenant, claims, NOW)), deps(tenant));
    return { verify };
  }

  it("rejects an expired token, and accepts one expired within the clock tolerance", async () => {
    const { verify } = await setup();
    expect(await verify({ exp: NOW_S - JWT_CLOCK_TOLERANCE_S - 1 })).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(await verify({ exp: NOW_S - JWT_CLOCK_TOLERANCE_S + 5 })).toMatchObject({ ok: true });
  });

  it("rejects a token without exp", async () => {
    const { verify } = await setup();
    expect(await verify({ exp: undefined })).toEqual({ ok: false, reason: "exp_missing", tenantId: "acme" });
  });

  it("rejects a non-numeric exp", async () => {
    const { verify } = await setup();
    expect(await verify({ exp: String(NOW_S + 600) })).toMatchObject({ ok: false, reason: "claim_invalid" });
  });

  it("rejects nbf in the future beyond the tolerance, and honours the tolerance", async () => {
    const { verify } = await setup();
    expect(await verify({ nbf: NOW_S + JWT_CLOCK_TOLERANCE_S + 1 })).toMatchObject({
      ok: false,
      reason: "not_yet_valid",
    });
    expect(await verify({ nbf: NOW_S + JWT_CLOCK_TOLERANCE_S - 1 })).toMatchObject({ ok: true });
  });

  it("rejects iat in the future beyond the tolerance, and honours the tolerance", async () => {
    const { verify } = await setup();
    expect(await verify({ iat: NOW_S + JWT_CLOCK_TOLERANCE_S + 1 })).toMatchObject({
      ok: false,
      reason: "issued_in_future",
    });
    expect(await verify({ iat: NOW_S + JWT_CLOCK_TOLERANCE_S })).toMatchObject({ ok: true });
  });

  it("rejects a sub that is not a non-empty string of bounded length", async () => {
    const { verify } = await setup();
    expect(await verify({ sub: 42 })).toMatchObject({ ok: false, reason: "claim_invalid" });
    expect(await verify({ sub: "" })).toMatchObject({ ok: false, reason: "claim_invalid" });
    expect(await verify({ sub: "u".repeat(257) })).toMatchObject({ ok: false, reason: "claim_invalid" });
    expect(await verify({ sub: "u".repeat(256) })).toMatchObject({ ok: true });
  });
});

describe("key caching", () => {
  it("reuses the key set of an unchanged tenant record and rebuilds it when updated_at changes", async () => {
    const key = await makeKeyPair("ES256");
    const auth = { issuer: "acme", audience: "reelgate", jwks: publicJwks(key) };
    const v1 = makeTenant(auth);
    const v2 = makeTenant(auth, { updated_at: "2030-01-02T00:00:00.000Z" });
    const keys = createKeyResolver();

    const first = await keys.keysFor(v1, NOW);
    const again = await keys.keysFor(structuredClone(v1), NOW);
    const updated = await keys.keysFor(v2, NOW);

    expect(first.ok && again.ok && updated.ok).toBe(true);
    if (first.ok && again.ok && updated.ok) {
      expect(again).toBe(first);
      expect(updated).not.toBe(first);
    }
  });

  it("imports an HS256 secret once per tenant record", async () => {
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", hs256_secret: hsSecret() });
    const keys = createKeyResolver();

    const first = await keys.keysFor(tenant, NOW);
    const again = await keys.keysFor(tenant, NOW + 1);

    expect(first).toMatchObject({ ok: true, kind: "secret" });
    expect(again).toBe(first);
  });

  it("forgets the least recently used tenant beyond maxTenants", async () => {
    const key = await makeKeyPair("ES256");
    const auth = { issuer: "acme", audience: "reelgate", jwks: publicJwks(key) };
    const [a, b, c] = ["a", "b", "c"].map((id) => makeTenant(auth, { id }));
    const keys = createKeyResolver({ maxTenants: 2 });

    const firstA = await keys.keysFor(a!, NOW);
    const firstB = await keys.keysFor(b!, NOW);
    expect(await keys.keysFor(a!, NOW)).toBe(firstA); // a is now the most recently used
    await keys.keysFor(c!, NOW); // evicts b, the least recently used
    expect(await keys.keysFor(a!, NOW)).toBe(firstA);
    expect(await keys.keysFor(b!, NOW)).not.toBe(firstB);
  });
});
