// The isolate's cache of verified tokens (src/auth/verified-tokens.ts): a token seen again is not checked
// again, while a forged one, a new tenant record version, a new key set or the token's end each send it back
// through the full check; the cache stays within its bounds. Then, through the real app: a key rotated by
// another isolate (the Registry, with this isolate's tenant copy left as it was) stops working once the
// tenant cache's TTL has passed, as it did without the cache.
import { env } from "cloudflare:workers";
import type { JWTVerifyGetKey } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKeyResolver, type KeyResolver } from "../../src/auth/keys";
import { verifyTenantToken } from "../../src/auth/verify";
import { VerifiedTokenCache } from "../../src/auth/verified-tokens";
import { TENANT_CACHE_TTL_MS } from "../../src/config/constants";
import type { Env } from "../../src/env";
import { registry } from "../../src/tenants/registry-client";
import { type Tenant, TenantInputSchema } from "../../src/tenants/schema";
import {
  claimsFor,
  issuerDirectory,
  makeKeyPair,
  makeTenant,
  publicJwks,
  signToken,
  type TestKey,
} from "../fixtures/keys";
import { admin, bearer, gw } from "../helpers/gateway";

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

/** An ES256 tenant, and a key resolver over its inline keys that counts the signature checks. */
async function counted(overrides: Partial<Omit<Tenant, "auth">> = {}, key?: TestKey) {
  const signer = key ?? (await makeKeyPair("ES256"));
  const tenant = makeTenant(
    { issuer: "https://id.acme.example/", audience: "reelgate", jwks: publicJwks(signer) },
    overrides,
  );
  const real = await createKeyResolver().keysFor(tenant, NOW);
  if (!real.ok || real.kind !== "jwks") throw new Error("expected an inline JWKS");
  const checks = { n: 0 };
  const getKey: JWTVerifyGetKey = (header, token) => {
    checks.n++;
    return real.getKey(header, token);
  };
  const keys: KeyResolver = {
    keysFor: async () => ({ ok: true, kind: "jwks", getKey }),
    refreshAfterUnknownKid: async () => null,
  };
  const sign = (extra = {}) => signToken(signer, claimsFor(tenant, extra, NOW));
  return { tenant, signer, keys, checks, sign };
}

describe("verified tokens (per isolate)", () => {
  it("checks a token sent twice once; a forged copy is checked in full, refused and never cached", async () => {
    const { tenant, keys, checks, sign } = await counted();
    const verified = new VerifiedTokenCache();
    const deps = { findTenantByIssuer: issuerDirectory(tenant), now: NOW, keys, verified };
    const token = await sign({ sub: "user-7" });

    expect(await verifyTenantToken(token, deps)).toMatchObject({ ok: true, sub: "user-7" });
    expect(await verifyTenantToken(token, deps)).toMatchObject({ ok: true, sub: "user-7" });
    expect(checks.n).toBe(1);
    expect(verified.size().entries).toBe(1);

    // The same header and payload under another signature: another token, checked, refused, not kept.
    const [h, p, s] = token.split(".") as [string, string, string];
    const forged = `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
    for (let i = 0; i < 2; i++)
      expect(await verifyTenantToken(forged, deps)).toMatchObject({ ok: false, reason: "signature_invalid" });
    expect(checks.n).toBe(3);
    expect(verified.size().entries).toBe(1);
  });

  it("checks again when the tenant record's version or the key set changes", async () => {
    const first = await counted({ version: 1 });
    const verified = new VerifiedTokenCache();
    const token = await first.sign();
    const deps = { findTenantByIssuer: issuerDirectory(first.tenant), now: NOW, keys: first.keys, verified };
    await verifyTenantToken(token, deps);
    await verifyTenantToken(token, deps);
    expect(first.checks.n).toBe(1);

    // The same keys under a newer record: checked again (and cached anew).
    const newer = { ...first.tenant, version: 2 };
    const v2 = { ...deps, findTenantByIssuer: issuerDirectory(newer) };
    expect(await verifyTenantToken(token, v2)).toMatchObject({ ok: true });
    expect(first.checks.n).toBe(2);
    await verifyTenantToken(token, v2);
    expect(first.checks.n).toBe(2);

    // Another key set object for the same record (a refetched jwks_uri): checked again.
    const refetched = await counted({ version: 2 }, first.signer);
    expect(await verifyTenantToken(token, { ...v2, keys: refetched.keys })).toMatchObject({ ok: true });
    expect(refetched.checks.n).toBe(1);
  });

  it("serves a token only within its own time window: after exp it is checked again, and refused", async () => {
    const { tenant, keys, checks, sign } = await counted();
    const verified = new VerifiedTokenCache();
    const token = await sign({ exp: NOW / 1000 + 60 });
    const at = (now: number) => ({ findTenantByIssuer: issuerDirectory(tenant), now, keys, verified });
    expect(await verifyTenantToken(token, at(NOW))).toMatchObject({ ok: true });
    expect(await verifyTenantToken(token, at(NOW + 30_000))).toMatchObject({ ok: true });
    expect(checks.n).toBe(1);
    // Before its iat (a clock that went back): not served from the cache, and the full check refuses it.
    expect(await verifyTenantToken(token, at(NOW - 3_600_000))).toMatchObject({
      ok: false,
      reason: "issued_in_future",
    });
    expect(checks.n).toBe(2);
    // Past exp and the clock tolerance: the full check runs and says why.
    expect(await verifyTenantToken(token, at(NOW + 3_600_000))).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(checks.n).toBe(3);
  });

  it("stays within its entry and byte bounds, dropping the least recently used", async () => {
    const { tenant, keys, sign } = await counted();
    const byEntries = new VerifiedTokenCache({ maxEntries: 2 });
    const deps = { findTenantByIssuer: issuerDirectory(tenant), now: NOW, keys, verified: byEntries };
    const tokens = await Promise.all([1, 2, 3].map((n) => sign({ sub: `user-${n}` })));
    for (const t of tokens) await verifyTenantToken(t, deps);
    expect(byEntries.size().entries).toBe(2);

    const one = byEntries.size().bytes / 2;
    const byBytes = new VerifiedTokenCache({ maxBytes: Math.floor(one * 2.5) });
    for (const t of tokens) await verifyTenantToken(t, { ...deps, verified: byBytes });
    expect(byBytes.size().entries).toBe(2);
    expect(byBytes.size().bytes).toBeLessThanOrEqual(one * 2.5);
  });
});

describe("verified tokens through the app", () => {
  afterEach(() => vi.useRealTimers());

  it("a key rotated elsewhere is refused once the tenant cache's TTL has passed, and the new key works", async () => {
    const id = `rotate-${crypto.randomUUID().slice(0, 8)}`;
    const issuer = `https://id.${id}.example/`;
    const [oldKey, newKey] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("ES256")]);
    const input = (key: TestKey) => ({
      name: id,
      auth: { issuer, audience: "reelgate", jwks: publicJwks(key) },
    });
    expect((await admin(`/admin/tenants/${id}`, { method: "PUT", json: input(oldKey) })).status).toBe(201);
    const tenant = { auth: { issuer, audience: "reelgate" } } as Tenant;
    const start = Date.now();
    const oldToken = await signToken(oldKey, claimsFor(tenant, { exp: start / 1000 + 3_600 }, start));
    const newToken = await signToken(newKey, claimsFor(tenant, { exp: start / 1000 + 3_600 }, start));
    const usage = (token: string) => gw("/v1/usage", bearer(token));

    expect((await usage(oldToken)).status).toBe(200);
    expect((await usage(oldToken)).status).toBe(200);
    // Another isolate rotates the key: the Registry writes the new record; this isolate is not told.
    const put = await registry(env as Env).putTenant(id, TenantInputSchema.parse(input(newKey)));
    expect(put.ok).toBe(true);
    // Within the TTL this isolate still holds the old record, as it always did.
    expect((await usage(oldToken)).status).toBe(200);

    vi.useFakeTimers({ toFake: ["Date"], now: start + TENANT_CACHE_TTL_MS + 1_000 });
    expect((await usage(oldToken)).status).toBe(401);
    expect((await usage(newToken)).status).toBe(200);
  });
});
