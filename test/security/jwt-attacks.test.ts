// The JWT attacks of the foundation issue, through the real app: tenants created with the admin API, tokens
// presented to /v1/*, and in every case a 401 (or 403 for a suspended tenant) with the upstream never called.
import { exportSPKI } from "jose";
import { describe, expect, it } from "vitest";
import { makeKeyPair, publicJwks, rawToken, signToken, tamperPayload, type TestKey } from "../fixtures/keys";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { UPSTREAM_HOST, VALID_BODY, admin, gw, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";

interface KeyedFixture {
  tenant: TenantFixture;
  key: TestKey;
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
}

async function es256Tenant(): Promise<KeyedFixture> {
  const key = await makeKeyPair("ES256");
  const base = hsTenant();
  const tenant = await createTenant({
    ...base,
    input: { ...base.input, auth: { issuer: base.issuer, audience: base.audience, jwks: publicJwks(key) } },
  });
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: tenant.issuer,
    aud: tenant.audience,
    sub: "user-1",
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
    ...extra,
  });
  return { tenant, key, claims };
}

async function expectRefused(token: string) {
  const res = await gw("/v1/videos/generations", withJson(token, VALID_BODY));
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  expect(await res.json()).toEqual({
    error: { code: "unauthorized", message: expect.any(String), type: "authentication_error" },
  });
}

describe("security: tenant JWTs through the real app", () => {
  it("accepts a valid ES256 token (the baseline the attacks below start from)", async () => {
    startSimulator();
    const t = await es256Tenant();
    const res = await gw("/v1/videos/generations", withJson(await signToken(t.key, t.claims()), VALID_BODY));
    expect(res.status).toBe(200);
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(1);
  });

  it("refuses alg none, algorithm confusion, tampering, foreign issuers and bad claims without calling upstream", async () => {
    startSimulator();
    const t = await es256Tenant();
    const other = await es256Tenant();
    const pem = await exportSPKI(t.key.publicKey);
    const attacks: Array<[string, string]> = [
      ["alg none", rawToken({ alg: "none", typ: "JWT" }, t.claims())],
      ["alg None with a signature", rawToken({ alg: "None" }, t.claims(), "c2ln")],
      ["HS256 signed with the tenant's public key (PEM)", await signToken(pem, t.claims(), { alg: "HS256" })],
      [
        "HS256 signed with the tenant's public JWK",
        await signToken(JSON.stringify(t.key.publicJwk), t.claims(), { alg: "HS256" }),
      ],
      ["another tenant's key carrying this issuer", await signToken(other.key, t.claims())],
      [
        "another tenant's key carrying this issuer and this kid",
        await signToken(other.key, t.claims(), { kid: t.key.kid }),
      ],
      ["a tampered payload", tamperPayload(await signToken(t.key, t.claims()), { sub: "admin" })],
      ["an unknown issuer", await signToken(t.key, t.claims({ iss: "https://nobody.example/" }))],
      ["an expired token", await signToken(t.key, t.claims({ exp: Math.floor(Date.now() / 1000) - 3600 }))],
      ["no exp", await signToken(t.key, t.claims({ exp: undefined }))],
      ["a future nbf", await signToken(t.key, t.claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }))],
      ["a wrong audience", await signToken(t.key, t.claims({ aud: "someone-else" }))],
      ["garbage", "not.a.jwt"],
    ];
    for (const [label, token] of attacks) {
      try {
        await expectRefused(token);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
    }
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });

  it("tells a suspended tenant so (403) only after its token verified", async () => {
    startSimulator();
    const t = await createTenant(hsTenant());
    await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: { ...t.input, status: "suspended" } });
    const suspended = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(suspended.status).toBe(403);
    expect(await suspended.json()).toMatchObject({ error: { code: "tenant_suspended" } });
    await expectRefused(await t.token({ aud: "wrong" }));
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });
});
