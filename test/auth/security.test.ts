// Attacks on tenant authentication, one `it` per trick: forged algorithms, confused keys, borrowed issuers,
// tampered payloads, and garbage sized to waste work. Each must be refused with the precise internal reason.
import { exportSPKI } from "jose";
import { describe, expect, it, vi } from "vitest";
import { MAX_TOKEN_BYTES } from "../../src/config/constants";
import { allowedAlgorithms } from "../../src/auth/algorithms";
import { createKeyResolver, type KeyResolver } from "../../src/auth/keys";
import { verifyTenantToken } from "../../src/auth/verify";
import { MAX_ISSUER_LENGTH, type Tenant } from "../../src/tenants/schema";
import {
  claimsFor,
  hsSecret,
  issuerDirectory,
  makeKeyPair,
  makeTenant,
  publicJwks,
  rawToken,
  signToken,
  tamperPayload,
} from "../fixtures/keys";

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

function deps(...tenants: Tenant[]) {
  return {
    findTenantByIssuer: vi.fn(issuerDirectory(...tenants) as (issuer: string) => Promise<Tenant | null>),
    now: NOW,
    keys: createKeyResolver(),
  };
}

async function esTenant(id = "acme", kid?: string) {
  const key = await makeKeyPair("ES256", kid);
  const tenant = makeTenant(
    { issuer: `https://id.${id}.example/`, audience: "reelgate", jwks: publicJwks(key) },
    { id },
  );
  return { key, tenant };
}

describe("security", () => {
  it("rejects alg none with an empty signature before any lookup", async () => {
    const { tenant } = await esTenant();
    const d = deps(tenant);
    const token = rawToken({ alg: "none", typ: "JWT" }, claimsFor(tenant, {}, NOW));

    expect(await verifyTenantToken(token, d)).toEqual({ ok: false, reason: "malformed" });
    expect(d.findTenantByIssuer).not.toHaveBeenCalled();
  });

  it("rejects alg none carrying a junk signature", async () => {
    const { tenant } = await esTenant();
    for (const alg of ["none", "None", "NONE"]) {
      const token = rawToken({ alg, typ: "JWT" }, claimsFor(tenant, {}, NOW), "c2lnbmF0dXJl");
      expect(await verifyTenantToken(token, deps(tenant))).toEqual({
        ok: false,
        reason: "alg_not_allowed",
        tenantId: "acme",
      });
    }
  });

  it("rejects HS256 signed with the tenant's public key (algorithm confusion)", async () => {
    const { key, tenant } = await esTenant();
    const pem = await exportSPKI(key.publicKey);
    const claims = claimsFor(tenant, {}, NOW);
    // Every plausible byte form of the public key an attacker could use as an HMAC secret.
    for (const secret of [pem, JSON.stringify(key.publicJwk), key.publicJwk.x!]) {
      const token = await signToken(secret, claims, { kid: key.kid });
      expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({
        ok: false,
        reason: "alg_not_allowed",
      });
    }
  });

  it("never accepts HMAC with a key set, even when a stored record allow-lists it", async () => {
    const { key, tenant } = await esTenant();
    // TenantInputSchema forbids this; a record written around it must still not open HS256 on public keys.
    const poisoned = makeTenant({ ...tenant.auth, algorithms: ["HS256", "ES256"] });
    const token = await signToken(await exportSPKI(key.publicKey), claimsFor(poisoned, {}, NOW), {
      kid: key.kid,
    });

    expect(await verifyTenantToken(token, deps(poisoned))).toMatchObject({
      ok: false,
      reason: "alg_not_allowed",
    });
  });

  it("keeps HMAC away from key sets by its own rule, whatever the key resolver would hand jose", async () => {
    const { tenant } = await esTenant();
    // A record written around TenantInputSchema that allow-lists HMAC next to its public keys.
    const poisoned = makeTenant({ ...tenant.auth, algorithms: ["HS256", "ES256"] });
    expect(allowedAlgorithms(poisoned.auth)).toEqual(["ES256"]);
    expect(allowedAlgorithms({ ...tenant.auth, algorithms: undefined })).not.toContain("HS256");
    expect(
      allowedAlgorithms({ issuer: "a", audience: "b", jwks_uri: "https://k/", algorithms: ["HS256"] }),
    ).toEqual([]);
    expect(
      allowedAlgorithms({ issuer: "a", audience: "b", hs256_secret: hsSecret(), algorithms: ["HS256"] }),
    ).toEqual(["HS256"]);

    // A resolver that would verify an HMAC token (jose's own refusal of public keys never comes into play):
    // only the gateway's allow-list stands between this token and the tenant.
    const secret = hsSecret();
    const hmacKey = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const keys: KeyResolver = {
      keysFor: async () => ({ ok: true, kind: "secret", key: hmacKey }),
      refreshAfterUnknownKid: async () => null,
    };
    const token = await signToken(secret, claimsFor(poisoned, {}, NOW));
    const d = { ...deps(poisoned), keys };

    expect(await verifyTenantToken(token, d)).toEqual({
      ok: false,
      reason: "alg_not_allowed",
      tenantId: "acme",
    });
    // The same resolver does verify the token for a tenant whose key type is a secret: the refusal above is
    // the allow-list's, not a broken token's.
    const hs = makeTenant({ issuer: poisoned.auth.issuer, audience: "reelgate", hs256_secret: secret });
    expect(await verifyTenantToken(token, { ...deps(hs), keys })).toMatchObject({ ok: true });
  });

  it("rejects an asymmetric token for an hs256_secret tenant", async () => {
    const key = await makeKeyPair("RS256");
    const tenant = makeTenant({ issuer: "acme-hs", audience: "reelgate", hs256_secret: hsSecret() });
    const token = await signToken(key, claimsFor(tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({
      ok: false,
      reason: "alg_not_allowed",
    });
  });

  it("rejects an HS256 token signed with another secret", async () => {
    const tenant = makeTenant({ issuer: "acme-hs", audience: "reelgate", hs256_secret: hsSecret() });
    const token = await signToken(hsSecret(), claimsFor(tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({
      ok: false,
      reason: "signature_invalid",
    });
  });

  it("rejects a token signed by one tenant's key carrying another tenant's issuer", async () => {
    const a = await esTenant("a");
    const b = await esTenant("b");
    const token = await signToken(a.key, claimsFor(b.tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(a.tenant, b.tenant))).toEqual({
      ok: false,
      reason: "kid_unknown",
      tenantId: "b",
    });
  });

  it("rejects a borrowed issuer even when both tenants use the same kid", async () => {
    const a = await esTenant("a", "key-1");
    const b = await esTenant("b", "key-1");
    const token = await signToken(a.key, claimsFor(b.tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(a.tenant, b.tenant))).toEqual({
      ok: false,
      reason: "signature_invalid",
      tenantId: "b",
    });
  });

  it("rejects a tampered payload", async () => {
    const { key, tenant } = await esTenant();
    const token = await signToken(key, claimsFor(tenant, { sub: "user-1" }, NOW));

    for (const change of [{ sub: "admin" }, { exp: NOW / 1000 + 10 * 365 * 86400 }, { scope: "admin" }]) {
      expect(await verifyTenantToken(tamperPayload(token, change), deps(tenant))).toMatchObject({
        ok: false,
        reason: "signature_invalid",
      });
    }
  });

  it("rejects a tampered header (kid swapped to another key of the same tenant)", async () => {
    const [k1, k2] = await Promise.all([makeKeyPair("ES256", "k1"), makeKeyPair("ES256", "k2")]);
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(k1, k2) });
    const token = await signToken(k1, claimsFor(tenant, {}, NOW));
    const [, payload, signature] = token.split(".");
    const forged = `${rawToken({ alg: "ES256", kid: "k2", typ: "JWT" }, {}).split(".")[0]}.${payload}.${signature}`;

    expect(await verifyTenantToken(forged, deps(tenant))).toMatchObject({
      ok: false,
      reason: "signature_invalid",
    });
  });

  it("rejects an unknown issuer, and one that differs only by a trailing slash", async () => {
    const { key, tenant } = await esTenant();
    for (const iss of ["https://evil.example/", "https://id.acme.example"]) {
      const token = await signToken(key, claimsFor(tenant, { iss }, NOW));
      expect(await verifyTenantToken(token, deps(tenant))).toEqual({ ok: false, reason: "issuer_unknown" });
    }
  });

  it("rejects an iss longer than any tenant's issuer before any lookup", async () => {
    const { key, tenant } = await esTenant();
    const d = deps(tenant);
    const token = await signToken(key, claimsFor(tenant, { iss: "i".repeat(MAX_ISSUER_LENGTH + 1) }, NOW));

    expect(await verifyTenantToken(token, d)).toEqual({ ok: false, reason: "issuer_too_long" });
    expect(d.findTenantByIssuer).not.toHaveBeenCalled();
  });

  it("rejects a token without an issuer", async () => {
    const { key, tenant } = await esTenant();
    const token = await signToken(key, claimsFor(tenant, { iss: undefined }, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toEqual({ ok: false, reason: "issuer_missing" });
  });

  it("rejects a tenant returned for an issuer it does not own (wrong iss)", async () => {
    const { key, tenant } = await esTenant();
    const token = await signToken(key, claimsFor(tenant, { iss: "https://other.example/" }, NOW));
    const d = { ...deps(), findTenantByIssuer: async () => tenant };

    expect(await verifyTenantToken(token, d)).toEqual({
      ok: false,
      reason: "issuer_mismatch",
      tenantId: "acme",
    });
  });

  it("rejects a wrong or missing audience", async () => {
    const { key, tenant } = await esTenant();
    for (const aud of ["other-api", ["other-api", "another"], undefined]) {
      const token = await signToken(key, claimsFor(tenant, { aud }, NOW));
      expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({
        ok: false,
        reason: "audience_mismatch",
      });
    }
  });

  it("rejects a token over the size cap without parsing it or looking up a tenant", async () => {
    const { key, tenant } = await esTenant();
    const d = deps(tenant);
    const token = await signToken(key, claimsFor(tenant, { pad: "x".repeat(MAX_TOKEN_BYTES) }, NOW));

    expect(token.length).toBeGreaterThan(MAX_TOKEN_BYTES);
    expect(await verifyTenantToken(token, d)).toEqual({ ok: false, reason: "token_too_large" });
    expect(d.findTenantByIssuer).not.toHaveBeenCalled();
  });

  it("rejects garbage that is not three base64url segments of JSON", async () => {
    const { tenant } = await esTenant();
    const d = deps(tenant);
    const header = rawToken({ alg: "ES256" }, {}).split(".")[0];
    const garbage = [
      "",
      "not-a-jwt",
      "a.b",
      "a.b.c.d",
      "a.b.c.d.e",
      "a+b.c/d.e=",
      "a .b.c",
      `${header}.bm90IGpzb24.c2ln`, // payload "not json"
      `bm90IGpzb24.${rawToken({}, { iss: tenant.auth.issuer }).split(".")[1]}.c2ln`, // header "not json"
      rawToken({ alg: "ES256" }, ["iss"] as unknown as Record<string, unknown>, "c2ln"), // payload not an object
      rawToken({ alg: 256 }, { iss: tenant.auth.issuer }, "c2ln"), // alg not a string
      rawToken({ alg: "ES256", kid: 7 }, { iss: tenant.auth.issuer }, "c2ln"), // kid not a string
    ];
    for (const token of garbage) {
      expect(await verifyTenantToken(token, d), token).toEqual({ ok: false, reason: "malformed" });
    }
    expect(d.findTenantByIssuer).not.toHaveBeenCalled();
  });

  it("honours an allow-list narrower than the key type", async () => {
    const [es, rs] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("RS256")]);
    const tenant = makeTenant({
      issuer: "acme",
      audience: "reelgate",
      jwks: publicJwks(es, rs),
      algorithms: ["ES256"],
    });

    expect(
      await verifyTenantToken(await signToken(rs, claimsFor(tenant, {}, NOW)), deps(tenant)),
    ).toMatchObject({
      ok: false,
      reason: "alg_not_allowed",
    });
    expect(
      await verifyTenantToken(await signToken(es, claimsFor(tenant, {}, NOW)), deps(tenant)),
    ).toMatchObject({
      ok: true,
    });
  });

  it("never uses a published key with an alg other than the one it declares", async () => {
    const rs = await makeKeyPair("RS256", "rsa");
    const tenant = makeTenant({ issuer: "acme", audience: "reelgate", jwks: publicJwks(rs) });
    // A PS256 token naming the RS256 key: the key set must not offer that key for PS256 at all.
    const ps = await makeKeyPair("PS256", "rsa");
    const token = await signToken(ps, claimsFor(tenant, {}, NOW));

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: false, reason: "kid_unknown" });
  });

  it("fails closed on an RSA key under 2048 bits", async () => {
    const pair = (await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    const tenant = makeTenant({
      issuer: "acme",
      audience: "reelgate",
      jwks: { keys: [{ kty: "RSA", n: jwk.n, e: jwk.e, kid: "weak", alg: "RS256" }] },
    });
    const unsigned = rawToken({ alg: "RS256", kid: "weak", typ: "JWT" }, claimsFor(tenant, {}, NOW), "");
    const signingInput = new TextEncoder().encode(unsigned.slice(0, -1));
    const signature = new Uint8Array(
      await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, signingInput),
    );
    const token =
      unsigned +
      btoa(String.fromCharCode(...signature))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");

    expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: false, reason: "key_unusable" });
  });

  it("refuses a stored tenant without exactly one key source", async () => {
    const key = await makeKeyPair("ES256");
    const both = makeTenant({
      issuer: "acme",
      audience: "reelgate",
      jwks: publicJwks(key),
      hs256_secret: hsSecret(),
    });
    const none = makeTenant({ issuer: "acme", audience: "reelgate" });

    for (const tenant of [both, none]) {
      const token = await signToken(key, claimsFor(tenant, {}, NOW));
      expect(await verifyTenantToken(token, deps(tenant))).toMatchObject({ ok: false });
    }
    const token = await signToken(key, claimsFor(none, {}, NOW));
    expect(await verifyTenantToken(token, deps(none))).toEqual({
      ok: false,
      reason: "tenant_misconfigured",
      tenantId: "acme",
    });
  });
});
