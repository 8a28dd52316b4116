// Fetched key sets (`jwks_uri`): caching, the unknown-kid refetch and its cool-down, stale serving while the
// key server is down, coalesced refreshes, and the bounds on a hostile or broken key server. The clock is a
// number passed in; outbound calls go through the in-isolate router and are counted per host.
import { describe, expect, it } from "vitest";
import {
  JWKS_COOLDOWN_MS,
  JWKS_FRESH_MS,
  JWKS_MAX_BYTES,
  JWKS_MAX_STALE_MS,
} from "../../src/config/constants";
import { createKeyResolver, type KeyResolverOptions } from "../../src/auth/keys";
import { verifyTenantToken } from "../../src/auth/verify";
import type { Tenant } from "../../src/tenants/schema";
import { callsTo, route } from "../helpers/outbound";
import {
  claimsFor,
  issuerDirectory,
  makeKeyPair,
  makeTenant,
  publicJwks,
  signToken,
  type TestKey,
} from "../fixtures/keys";

const HOST = "idp.acme.example";
const JWKS_URI = `https://${HOST}/.well-known/jwks.json`;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

const tenant = makeTenant({ issuer: "https://idp.acme.example/", audience: "reelgate", jwks_uri: JWKS_URI });

/** A key server whose published keys (or whole response) the test changes as it goes. */
function keyServer(...keys: TestKey[]) {
  const server = {
    keys,
    respond: null as null | (() => Response | Promise<Response>),
  };
  route(HOST, (request) => {
    if (server.respond) return server.respond();
    if (new URL(request.url).pathname !== "/.well-known/jwks.json")
      return new Response("not found", { status: 404 });
    return Response.json(publicJwks(...server.keys));
  });
  return server;
}

function verifier(options: KeyResolverOptions = {}) {
  const keys = createKeyResolver(options);
  return (token: string, now: number) =>
    verifyTenantToken(token, { findTenantByIssuer: issuerDirectory(tenant), now, keys });
}

const tokenAt = (key: TestKey, now: number) => signToken(key, claimsFor(tenant, {}, now));

describe("jwks_uri", () => {
  it("fetches the key set once with a GET and serves it from memory while fresh", async () => {
    const key = await makeKeyPair("ES256");
    keyServer(key);
    const verify = verifier();

    expect(await verify(await tokenAt(key, T0), T0)).toMatchObject({ ok: true });
    expect(await verify(await tokenAt(key, T0), T0 + JWKS_FRESH_MS - 1)).toMatchObject({ ok: true });

    const calls = callsTo(HOST);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: "GET", url: JWKS_URI });
    expect(calls[0]!.headers.accept).toContain("application/json");
  });

  it("refetches once the set is no longer fresh", async () => {
    const key = await makeKeyPair("ES256");
    keyServer(key);
    const verify = verifier();

    await verify(await tokenAt(key, T0), T0);
    const later = T0 + JWKS_FRESH_MS;
    expect(await verify(await tokenAt(key, later), later)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(2);
  });

  it("coalesces concurrent refreshes into one fetch", async () => {
    const key = await makeKeyPair("ES256");
    keyServer(key);
    const verify = verifier();
    const token = await tokenAt(key, T0);

    const results = await Promise.all(Array.from({ length: 5 }, () => verify(token, T0)));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(callsTo(HOST)).toHaveLength(1);
  });

  it("refetches on an unknown kid once, then not again inside the cool-down", async () => {
    const [k1, k2, k3] = await Promise.all([
      makeKeyPair("ES256"),
      makeKeyPair("ES256"),
      makeKeyPair("ES256"),
    ]);
    const server = keyServer(k1);
    const verify = verifier();
    await verify(await tokenAt(k1, T0), T0);
    expect(callsTo(HOST)).toHaveLength(1);

    // The IdP rotates in k2; a token signed with it triggers one refetch and verifies.
    server.keys = [k1, k2];
    const t1 = T0 + JWKS_COOLDOWN_MS;
    expect(await verify(await tokenAt(k2, t1), t1)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(2);

    // Another unknown kid inside the cool-down is refused without asking the key server again.
    server.keys = [k1, k2, k3];
    const t2 = t1 + JWKS_COOLDOWN_MS - 1;
    expect(await verify(await tokenAt(k3, t2), t2)).toEqual({
      ok: false,
      reason: "kid_unknown",
      tenantId: "acme",
    });
    expect(callsTo(HOST)).toHaveLength(2);

    // Once the cool-down has passed, the same token gets its refetch and verifies.
    const t3 = t1 + JWKS_COOLDOWN_MS;
    expect(await verify(await tokenAt(k3, t3), t3)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(3);
  });

  it("counts the cool-down from the last fetch of any kind", async () => {
    const [k1, k2] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("ES256")]);
    const server = keyServer(k1);
    const verify = verifier();
    await verify(await tokenAt(k1, T0), T0);
    server.keys = [k1, k2];

    expect(await verify(await tokenAt(k2, T0 + 1), T0 + 1)).toMatchObject({
      ok: false,
      reason: "kid_unknown",
    });
    expect(callsTo(HOST)).toHaveLength(1);
  });

  it("does not refetch for a kid-less token that matches no key", async () => {
    const [k1, other] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("RS256")]);
    keyServer(k1);
    const verify = verifier();
    await verify(await tokenAt(k1, T0), T0);

    const later = T0 + JWKS_COOLDOWN_MS;
    const token = await signToken(other, claimsFor(tenant, {}, later), { kid: undefined });
    expect(await verify(token, later)).toMatchObject({ ok: false, reason: "kid_unknown" });
    expect(callsTo(HOST)).toHaveLength(1);
  });

  it("keeps serving a stale key set while the key server is down, up to the stale limit", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    const verify = verifier();
    await verify(await tokenAt(key, T0), T0);

    server.respond = () => new Response("upstream down", { status: 503 });
    const stale = T0 + JWKS_FRESH_MS;
    expect(await verify(await tokenAt(key, stale), stale)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(2);

    // Inside the cool-down the dead key server is not asked again; the stale set answers at once.
    const soon = stale + JWKS_COOLDOWN_MS - 1;
    expect(await verify(await tokenAt(key, soon), soon)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(2);

    // Beyond the stale limit the old keys stop counting.
    const tooOld = T0 + JWKS_MAX_STALE_MS + 1;
    expect(await verify(await tokenAt(key, tooOld), tooOld)).toEqual({
      ok: false,
      reason: "jwks_unavailable",
      tenantId: "acme",
    });
    expect(callsTo(HOST)).toHaveLength(3);
  });

  it("recovers once the key server is back", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    server.respond = () => new Response("down", { status: 500 });
    const verify = verifier();

    expect(await verify(await tokenAt(key, T0), T0)).toMatchObject({ ok: false, reason: "jwks_unavailable" });
    // A failed first fetch is not retried inside the cool-down either (no hammering, no added latency).
    expect(await verify(await tokenAt(key, T0 + 1), T0 + 1)).toMatchObject({
      ok: false,
      reason: "jwks_unavailable",
    });
    expect(callsTo(HOST)).toHaveLength(1);

    server.respond = null;
    const later = T0 + JWKS_COOLDOWN_MS;
    expect(await verify(await tokenAt(key, later), later)).toMatchObject({ ok: true });
    expect(callsTo(HOST)).toHaveLength(2);
  });

  it("bounds a key server that never answers with the fetch timeout", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    server.respond = () => new Promise<Response>(() => {});
    const verify = verifier({ fetchTimeoutMs: 5 });

    expect(await verify(await tokenAt(key, T0), T0)).toEqual({
      ok: false,
      reason: "jwks_unavailable",
      tenantId: "acme",
    });
    expect(callsTo(HOST)).toHaveLength(1);
  });

  it("bounds a key server that sends headers and then never finishes the body", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    server.respond = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"keys":['));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    const verify = verifier({ fetchTimeoutMs: 5 });

    expect(await verify(await tokenAt(key, T0), T0)).toMatchObject({ ok: false, reason: "jwks_unavailable" });
  });

  it("rejects a key set larger than JWKS_MAX_BYTES, declared or streamed", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    const huge = JSON.stringify({ keys: [{ ...key.publicJwk, x_pad: "a".repeat(JWKS_MAX_BYTES) }] });

    server.respond = () => new Response(huge, { headers: { "content-length": String(huge.length) } });
    expect(await verifier()(await tokenAt(key, T0), T0)).toMatchObject({ ok: false, reason: "jwks_invalid" });

    server.respond = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < huge.length; i += 4096)
              controller.enqueue(new TextEncoder().encode(huge.slice(i, i + 4096)));
            controller.close();
          },
        }),
      );
    expect(await verifier()(await tokenAt(key, T0), T0)).toMatchObject({ ok: false, reason: "jwks_invalid" });
  });

  it("accepts a key set just under the size cap", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    const base = JSON.stringify({ keys: [{ ...key.publicJwk, x_pad: "" }] });
    const body = JSON.stringify({
      keys: [{ ...key.publicJwk, x_pad: "a".repeat(JWKS_MAX_BYTES - base.length) }],
    });
    expect(body.length).toBe(JWKS_MAX_BYTES);
    server.respond = () => new Response(body);

    expect(await verifier()(await tokenAt(key, T0), T0)).toMatchObject({ ok: true });
  });

  it("rejects a key server answer that is not JSON", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    server.respond = () => new Response("<html>login</html>", { headers: { "content-type": "text/html" } });

    expect(await verifier()(await tokenAt(key, T0), T0)).toEqual({
      ok: false,
      reason: "jwks_invalid",
      tenantId: "acme",
    });
  });

  it("rejects JSON that is not a public JWKS (private key material, wrong shape)", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    for (const body of [{ keys: [{ ...key.publicJwk, d: "private" }] }, { keys: "none" }, [key.publicJwk]]) {
      server.respond = () => Response.json(body);
      expect(await verifier()(await tokenAt(key, T0), T0)).toMatchObject({
        ok: false,
        reason: "jwks_invalid",
      });
    }
  });

  it("treats a redirect as the key server being unavailable, without following it", async () => {
    const key = await makeKeyPair("ES256");
    const server = keyServer(key);
    server.respond = () =>
      new Response(null, { status: 302, headers: { location: "https://elsewhere.example/jwks" } });

    expect(await verifier()(await tokenAt(key, T0), T0)).toMatchObject({
      ok: false,
      reason: "jwks_unavailable",
    });
    expect(callsTo("elsewhere.example")).toHaveLength(0);
  });

  it("never fetches a jwks_uri that is not https", async () => {
    const key = await makeKeyPair("ES256");
    keyServer(key);
    const plain = makeTenant({ ...tenant.auth, jwks_uri: `http://${HOST}/.well-known/jwks.json` });
    const token = await signToken(key, claimsFor(plain, {}, T0));

    const result = await verifyTenantToken(token, {
      findTenantByIssuer: issuerDirectory(plain),
      now: T0,
      keys: createKeyResolver(),
    });

    expect(result).toMatchObject({ ok: false, reason: "tenant_misconfigured" });
    expect(callsTo(HOST)).toHaveLength(0);
  });

  it("starts over when the tenant's jwks_uri changes", async () => {
    const [k1, k2] = await Promise.all([makeKeyPair("ES256"), makeKeyPair("ES256")]);
    keyServer(k1);
    route("keys.acme.example", () => Response.json(publicJwks(k2)));
    const keys = createKeyResolver();
    const moved: Tenant = makeTenant({ ...tenant.auth, jwks_uri: "https://keys.acme.example/jwks" });

    const first = await verifyTenantToken(await tokenAt(k1, T0), {
      findTenantByIssuer: issuerDirectory(tenant),
      now: T0,
      keys,
    });
    const second = await verifyTenantToken(await signToken(k2, claimsFor(moved, {}, T0)), {
      findTenantByIssuer: issuerDirectory(moved),
      now: T0 + 1,
      keys,
    });

    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: true });
    expect(callsTo("keys.acme.example")).toHaveLength(1);
  });
});
