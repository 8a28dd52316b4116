// tenantAuth inside a tiny hono app rendered by the real onError: the 401 a client sees (status, challenge
// header, upstream-shaped body), what is logged instead (the reason, never the token), the 403 for a
// suspended tenant, and that the route behind the gate never runs for a refused request.
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { createKeyResolver } from "../../src/auth/keys";
import { tenantAuth } from "../../src/auth/middleware";
import type { Env } from "../../src/env";
import type { TenantEnv } from "../../src/auth/principal";
import type { Logger } from "../../src/http/log";
import { onError } from "../../src/http/middleware";
import type { Tenant } from "../../src/tenants/schema";
import {
  claimsFor,
  issuerDirectory,
  makeKeyPair,
  makeTenant,
  publicJwks,
  signToken,
  type TestKey,
} from "../fixtures/keys";

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const INVALID_TOKEN = 'Bearer error="invalid_token"';
const UNAUTHORIZED_BODY = {
  error: { code: "unauthorized", message: "Missing or invalid bearer token", type: "authentication_error" },
};

interface LogLine {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

async function harness(status: Tenant["status"] = "active") {
  const key = await makeKeyPair("ES256");
  const tenant = makeTenant(
    { issuer: "https://id.acme.example/", audience: "reelgate", jwks: publicJwks(key) },
    { status },
  );
  const lines: LogLine[] = [];
  const record =
    (level: string) =>
    (event: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, event, fields });
  const log: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
  const findTenantByIssuer = vi.fn(
    issuerDirectory(tenant) as (env: Env, issuer: string) => Promise<Tenant | null>,
  );
  const reached = vi.fn();

  const app = new Hono<TenantEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", "req-test-00000001");
    c.set("log", log);
    await next();
  });
  app.use("/v1/*", tenantAuth({ findTenantByIssuer, now: () => NOW, keys: createKeyResolver() }));
  app.get("/v1/whoami", (c) => {
    reached();
    const { tenant: t, sub } = c.get("principal");
    return c.json({ tenant: t.id, sub: sub ?? null });
  });
  app.onError(onError);

  const request = (authorization?: string) =>
    app.request("/v1/whoami", { headers: authorization === undefined ? {} : { authorization } }, env as Env);
  const token = (claims: Record<string, unknown> = {}, signer: TestKey = key) =>
    signToken(signer, claimsFor(tenant, claims, NOW));
  return { tenant, request, token, lines, findTenantByIssuer, reached };
}

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe(INVALID_TOKEN);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(await res.json()).toEqual(UNAUTHORIZED_BODY);
}

describe("tenantAuth middleware", () => {
  it("sets the principal from a valid token and passes env to the issuer lookup", async () => {
    const h = await harness();
    const res = await h.request(`Bearer ${await h.token({ sub: "user-7" })}`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: "acme", sub: "user-7" });
    expect(h.findTenantByIssuer).toHaveBeenCalledWith(env, "https://id.acme.example/");
    expect(h.lines).toEqual([]);
  });

  it("accepts the scheme case-insensitively and leaves sub null when the token has none", async () => {
    const h = await harness();
    const res = await h.request(`bearer ${await h.token({ sub: undefined })}`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: "acme", sub: null });
  });

  it("answers a missing or non-Bearer Authorization header with the same 401", async () => {
    const h = await harness();
    for (const header of [undefined, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc.def.ghi"]) {
      await expectUnauthorized(await h.request(header));
    }
    expect(h.reached).not.toHaveBeenCalled();
    expect(h.findTenantByIssuer).not.toHaveBeenCalled();
    expect(h.lines.every((l) => l.event === "auth_failed" && l.fields.reason === "missing_token")).toBe(true);
  });

  it("gives an expired token the generic 401 and logs the precise reason, never the token", async () => {
    const h = await harness();
    const token = await h.token({ exp: NOW / 1000 - 3600 });

    await expectUnauthorized(await h.request(`Bearer ${token}`));

    expect(h.reached).not.toHaveBeenCalled();
    expect(h.lines).toEqual([
      {
        level: "info",
        event: "auth_failed",
        fields: { reason: "expired", fault: "client", tenant_id: "acme" },
      },
    ]);
    const logged = JSON.stringify(h.lines);
    for (const part of token.split(".")) expect(logged).not.toContain(part);
  });

  it("answers every kind of bad token identically", async () => {
    const h = await harness();
    const stranger = await makeKeyPair("ES256");
    const bad = [
      "garbage",
      await h.token({ aud: "someone-else" }),
      await h.token({ iss: "https://unknown.example/" }),
      await h.token({}, stranger),
    ];
    const bodies = new Set<string>();
    for (const token of bad) {
      const res = await h.request(`Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(INVALID_TOKEN);
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect(h.lines.map((l) => l.fields.reason)).toEqual([
      "malformed",
      "audience_mismatch",
      "issuer_unknown",
      "kid_unknown",
    ]);
  });

  it("logs a key-server failure as a warning", async () => {
    const h = await harness();
    const token = await h.token();
    // Point the tenant at a key server that is not there; the router throws for unrouted hosts.
    const remote = makeTenant({
      ...h.tenant.auth,
      jwks: undefined,
      jwks_uri: "https://idp.down.example/jwks",
    });
    h.findTenantByIssuer.mockImplementation(async () => remote);

    await expectUnauthorized(await h.request(`Bearer ${token}`));
    expect(h.lines).toEqual([
      {
        level: "warn",
        event: "auth_failed",
        fields: { reason: "jwks_unavailable", fault: "key_server", tenant_id: "acme" },
      },
    ]);
  });

  it("answers a suspended tenant's valid token with 403 tenant_suspended", async () => {
    const h = await harness("suspended");
    const res = await h.request(`Bearer ${await h.token()}`);

    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBeNull();
    expect(await res.json()).toEqual({
      error: { code: "tenant_suspended", message: expect.any(String), type: "permission_error" },
    });
    expect(h.reached).not.toHaveBeenCalled();
  });

  it("does not reveal a suspension to a token that fails verification", async () => {
    const h = await harness("suspended");
    const stranger = await makeKeyPair("ES256");

    await expectUnauthorized(await h.request(`Bearer ${await h.token({}, stranger)}`));
    await expectUnauthorized(await h.request(`Bearer ${await h.token({ exp: NOW / 1000 - 3600 })}`));
  });

  it("lets a storage failure in the issuer lookup surface as a 500, not a 401", async () => {
    const h = await harness();
    h.findTenantByIssuer.mockRejectedValue(new Error("KV unavailable"));

    const res = await h.request(`Bearer ${await h.token()}`);

    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: "internal_error" } });
  });

  it("checks its configuration when built", () => {
    expect(() => tenantAuth({} as Parameters<typeof tenantAuth>[0])).toThrow(/findTenantByIssuer/);
  });
});
