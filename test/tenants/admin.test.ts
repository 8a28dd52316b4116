import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ADMIN_TOKEN, GATEWAY, admin, gw } from "../helpers/gateway";
import { createTenant, hsTenant } from "../fixtures/tenants";

const ecJwk = {
  kty: "EC",
  crv: "P-256",
  kid: "k1",
  x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
};

describe("admin API authentication", () => {
  it("rejects a missing or wrong admin token with 401 and the upstream error shape", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: "Basic abc" }] as Record<
      string,
      string
    >[]) {
      const res = await gw("/admin/tenants", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(await res.json()).toMatchObject({
        error: { code: "unauthorized", type: "authentication_error" },
      });
    }
  });

  it("compares the admin token exactly: one differing only in case is refused", async () => {
    expect(ADMIN_TOKEN).not.toBe(ADMIN_TOKEN.toUpperCase());
    for (const token of [ADMIN_TOKEN.toUpperCase(), ADMIN_TOKEN[0]!.toUpperCase() + ADMIN_TOKEN.slice(1)]) {
      const res = await gw("/admin/tenants", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, token).toBe(401);
    }
    // An operator's mixed-case token is matched as written, not lower-cased on either side.
    const mixed = "Admin-Token-With-Mixed-Case-0123";
    const call = (token: string) =>
      app.fetch(new Request(`${GATEWAY}/admin/tenants`, { headers: { authorization: `Bearer ${token}` } }), {
        ...env,
        ADMIN_TOKEN: mixed,
      });
    expect((await call(mixed)).status).toBe(200);
    expect((await call(mixed.toLowerCase())).status).toBe(401);
  });

  it("reads the Bearer scheme case-insensitively, as the tenant API does (one shared parser)", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
      const res = await gw("/admin/tenants", { headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } });
      expect(res.status, scheme).toBe(200);
    }
    // …and the same header shapes fail for both: no credentials, or more than one word.
    for (const header of ["Bearer", "Bearer ", `Bearer ${ADMIN_TOKEN} extra`, `Bearer\t${ADMIN_TOKEN}`]) {
      expect((await gw("/admin/tenants", { headers: { authorization: header } })).status, header).toBe(401);
    }
  });
});

describe("PUT /admin/tenants/{id}", () => {
  it("creates (201) then replaces (200), keeping created_at and never returning secrets", async () => {
    const t = hsTenant();
    const first = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(first.status).toBe(201);
    const created = (await first.json()) as Record<string, any>;
    expect(created.id).toBe(t.id);
    expect(created.status).toBe("active");
    expect(created.auth.key_source).toBe("hs256_secret");
    expect(JSON.stringify(created)).not.toContain(t.secret);
    // A webhook secret was generated and is shown once.
    expect(created.webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const second = await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      json: { ...t.input, name: "Renamed" },
    });
    expect(second.status).toBe(200);
    const replaced = (await second.json()) as Record<string, any>;
    expect(replaced.name).toBe("Renamed");
    expect(replaced.created_at).toBe(created.created_at);
    expect(replaced.webhook.secret).toBeUndefined();
    expect(replaced.webhook.secret_set).toBe(true);

    const read = (await (await admin(`/admin/tenants/${t.id}`)).json()) as Record<string, any>;
    expect(read.name).toBe("Renamed");
    expect(JSON.stringify(read)).not.toContain(t.secret);
    expect(JSON.stringify(read)).not.toContain(created.webhook.secret);
    // The stored record is what KV holds, parsed: the generated secret survived the replace.
    const stored = (await env.KV.get(`tenant:${t.id}`, "json")) as Record<string, any>;
    expect(stored.webhook.secret).toBe(created.webhook.secret);
  });

  it("keeps a webhook secret the operator provides, without echoing it", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const t = hsTenant({ webhook: { url: "https://hooks.acme.example/reelgate", secret } });
    const res = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, any>;
    expect(body.webhook).toEqual({ url: "https://hooks.acme.example/reelgate", secret_set: true });
  });

  it("accepts inline JWKS and jwks_uri key sources, exactly one at a time", async () => {
    const jwks = hsTenant({
      auth: {
        issuer: "https://jwks.one.example/",
        audience: ["a", "b"],
        jwks: { keys: [ecJwk] },
        algorithms: ["ES256"],
      },
    });
    expect((await admin(`/admin/tenants/${jwks.id}`, { method: "PUT", json: jwks.input })).status).toBe(201);
    const uri = hsTenant({
      auth: {
        issuer: "https://jwks.two.example/",
        audience: "x",
        jwks_uri: "https://idp.two.example/jwks.json",
      },
    });
    expect((await admin(`/admin/tenants/${uri.id}`, { method: "PUT", json: uri.input })).status).toBe(201);

    const both = hsTenant({
      auth: {
        issuer: "https://both.example/",
        audience: "x",
        jwks: { keys: [ecJwk] },
        hs256_secret: "y".repeat(40),
      },
    });
    const res = await admin(`/admin/tenants/${both.id}`, { method: "PUT", json: both.input });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_request", message: expect.stringContaining("exactly one") },
    });
  });

  it.each([
    [
      "a short HS256 secret",
      { auth: { issuer: "https://s.example/", audience: "x", hs256_secret: "short" } },
      "auth.hs256_secret",
    ],
    [
      "HMAC with public keys",
      {
        auth: { issuer: "https://h.example/", audience: "x", jwks: { keys: [ecJwk] }, algorithms: ["HS256"] },
      },
      "auth.algorithms",
    ],
    [
      "a private key in the key set",
      { auth: { issuer: "https://p.example/", audience: "x", jwks: { keys: [{ ...ecJwk, d: "secret" }] } } },
      "auth.jwks.keys[0]",
    ],
    [
      "an http jwks_uri",
      { auth: { issuer: "https://u.example/", audience: "x", jwks_uri: "http://idp.example/jwks" } },
      "auth.jwks_uri",
    ],
    [
      "a jwks_uri on loopback",
      { auth: { issuer: "https://l.example/", audience: "x", jwks_uri: "https://127.0.0.1/jwks" } },
      "auth.jwks_uri",
    ],
    ["an internal webhook url", { webhook: { url: "https://10.0.0.8/hook" } }, "webhook.url"],
    ["an unknown field", { nmae: "typo" }, "nmae"],
    ["a bad status", { status: "paused" }, "status"],
    ["a bad quota", { quotas: { requests_per_minute: -1 } }, "quotas.requests_per_minute"],
    [
      "an issuer whose KV key passes 512 bytes",
      { auth: { issuer: "€".repeat(200), audience: "x", hs256_secret: "s".repeat(32) } },
      "auth.issuer",
    ],
  ])("rejects %s with 400 naming the field", async (_label, overrides, param) => {
    const t = hsTenant(overrides);
    const res = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.param).toBe(param);
  });

  // zod/mini has no messages of its own ("Invalid input" for everything): src/config/zod.ts sets English.
  it.each([
    ["a name of the wrong type", { name: 5 }, "name: Invalid input: expected string, received number"],
    ["an empty name", { name: "" }, "name: Too small: expected string to have >=1 characters"],
    ["a bad status", { status: "paused" }, 'status: Invalid option: expected one of "active"|"suspended"'],
    [
      "a bad quota",
      { quotas: { requests_per_minute: -1 } },
      "quotas.requests_per_minute: Too small: expected number to be >0",
    ],
  ])("words the refusal of %s with zod's English message", async (_label, overrides, message) => {
    const t = hsTenant(overrides);
    const res = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", message } });
  });

  it("rejects a malformed tenant id", async () => {
    const res = await admin(`/admin/tenants/Bad%20Id`, { method: "PUT", json: hsTenant().input });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: "tenant_id" } });
  });

  it("refuses an issuer another tenant already uses (409 issuer_conflict), even under concurrency", async () => {
    const a = hsTenant();
    await createTenant(a);
    const b = hsTenant({ auth: { ...(a.input.auth as object) } });
    const res = await admin(`/admin/tenants/${b.id}`, { method: "PUT", json: b.input });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "issuer_conflict" } });

    const shared = { issuer: "https://race.example/", audience: "x", hs256_secret: "z".repeat(40) };
    const racers = Array.from({ length: 6 }, () => hsTenant({ auth: shared }));
    const statuses = await Promise.all(
      racers.map(
        async (r) => (await admin(`/admin/tenants/${r.id}`, { method: "PUT", json: r.input })).status,
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
  });

  it("lets a tenant change its issuer and frees the old one", async () => {
    const a = await createTenant(hsTenant());
    const moved = { ...a.input, auth: { ...(a.input.auth as object), issuer: "https://moved.example/" } };
    expect((await admin(`/admin/tenants/${a.id}`, { method: "PUT", json: moved })).status).toBe(200);
    const b = hsTenant({ auth: { ...(a.input.auth as object) } });
    expect((await admin(`/admin/tenants/${b.id}`, { method: "PUT", json: b.input })).status).toBe(201);
  });

  it("refuses non-JSON bodies with clear errors", async () => {
    const t = hsTenant();
    const notJson = await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    const wrongType = await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
  });
});

describe("GET, list and DELETE", () => {
  it("lists tenants with summaries and deletes them", async () => {
    const a = await createTenant(hsTenant());
    const list = (await (await admin("/admin/tenants")).json()) as {
      data: Array<{ id: string; issuer: string }>;
    };
    expect(list.data.find((t) => t.id === a.id)).toMatchObject({
      id: a.id,
      issuer: a.issuer,
      status: "active",
    });

    expect((await admin(`/admin/tenants/${a.id}`, { method: "DELETE" })).status).toBe(204);
    const gone = await admin(`/admin/tenants/${a.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: "tenant_not_found" } });
    expect((await admin(`/admin/tenants/${a.id}`, { method: "DELETE" })).status).toBe(404);
    // Its issuer is free again.
    expect((await admin(`/admin/tenants/${a.id}-again`, { method: "PUT", json: a.input })).status).toBe(201);
  });
});
