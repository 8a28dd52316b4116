// Where the CPU of tenant authentication goes: one token verification per algorithm the gateway accepts,
// with the tenant already looked up and its keys already imported (the warm path every request takes once
// an isolate has seen the tenant), next to the unverified header/payload read that picks the tenant, and
// the same token seen before (src/auth/verified-tokens.ts: its hash found, no signature check).
import { expect, test } from "vitest";
import { createKeyResolver } from "../src/auth/keys";
import { readUnverified } from "../src/auth/token";
import { VerifiedTokenCache } from "../src/auth/verified-tokens";
import { verifyTenantToken } from "../src/auth/verify";
import { issuerDirectory, tenantWithKey } from "../test/fixtures/keys";
import { compareOps } from "./micro";

const ALGS = ["ES256", "RS256", "EdDSA", "HS256"] as const;

test("tenant token verification, warm key caches", async ({ bench }) => {
  const keys = createKeyResolver();
  const cases = [];
  for (const alg of ALGS) {
    const { tenant, token: mint } = await tenantWithKey(alg, { id: `bench-${alg.toLowerCase()}` });
    const token = await mint();
    // A cache that keeps nothing: every call checks the signature.
    const verified = new VerifiedTokenCache({ maxEntries: 0 });
    const deps = { findTenantByIssuer: issuerDirectory(tenant), now: Date.now(), keys, verified };
    // Warm the key cache, and make sure the benchmark measures a success, not a refusal.
    expect(await verifyTenantToken(token, deps)).toMatchObject({ ok: true });
    cases.push({ name: `verify ${alg}`, op: () => verifyTenantToken(token, deps) });
    if (alg === "ES256") {
      const seen = { ...deps, verified: new VerifiedTokenCache() };
      expect(await verifyTenantToken(token, seen)).toMatchObject({ ok: true });
      cases.push({ name: "verify ES256, token seen before", op: () => verifyTenantToken(token, seen) });
      cases.push({ name: "read unverified (iss, alg, kid)", op: () => readUnverified(token) });
    }
  }
  await compareOps(bench, "Token verification", cases);
});
