// The tenant portal through the real app: links (issued, validated, revoked), what a link reads and may do
// (each capability checked on the server), the 401 of every token that must not work (none, forged,
// altered, of another kind, expired, revoked, of an earlier life of the tenant, of a deleted tenant), and the
// page's per-tenant CSP frame-ancestors. The 1,000-id fuzz is in ./fuzz.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signPortalToken } from "../../src/portal/token";
import { signResultToken } from "../../src/results/url";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { admin, GATEWAY, gw, startSimulator } from "../helpers/gateway";
import { eventually, webhookTenant } from "../callbacks/helpers";
import { ALL_CAPABILITIES, papi, portalLink, stockedTenant } from "./helpers";

const SECRET = env.SIGNING_SECRET as string;

async function expect401(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toContain('realm="reelgate-portal"');
  expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
}

describe("portal links", () => {
  it("a link is PUBLIC_BASE_URL/portal/{tenant_id}#<token>, read always included, within the TTL asked", async () => {
    const t = await createTenant();
    const before = Date.now();
    const link = await (
      await admin(`/admin/tenants/${t.id}/portal-links`, {
        method: "POST",
        json: { ttl_seconds: 600, capabilities: ["redeliver"] },
      })
    ).json<any>();
    expect(link.url).toMatch(new RegExp(`^${GATEWAY}/portal/${t.id}#[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(link.capabilities).toEqual(["read", "redeliver"]);
    const ttl = Date.parse(link.expires_at) - before;
    expect(ttl).toBeGreaterThan(598_000);
    expect(ttl).toBeLessThanOrEqual(601_000);
    const byDefault = await (
      await admin(`/admin/tenants/${t.id}/portal-links`, { method: "POST", json: {} })
    ).json<any>();
    expect(byDefault.capabilities).toEqual(["read"]);
    expect(Date.parse(byDefault.expires_at) - Date.now()).toBeGreaterThan(3_590_000);
  });

  it.each([
    [{ ttl_seconds: 0 }, "ttl_seconds"],
    [{ ttl_seconds: 86_401 }, "ttl_seconds"],
    [{ ttl_seconds: 1.5 }, "ttl_seconds"],
    [{ capabilities: ["admin"] }, "capabilities"],
    [{ tenant_id: "other" }, "tenant_id"],
  ])("refuses %j", async (json, param) => {
    const t = await createTenant();
    const res = await admin(`/admin/tenants/${t.id}/portal-links`, { method: "POST", json });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_request", param: expect.stringContaining(param) },
    });
  });

  it("answers 404 tenant_not_found for an unknown tenant, and needs the admin token", async () => {
    const res = await admin(`/admin/tenants/nobody-here/portal-links`, { method: "POST", json: {} });
    expect(res.status).toBe(404);
    const t = await createTenant();
    for (const path of [
      `/admin/tenants/${t.id}/portal-links`,
      `/admin/tenants/${t.id}/portal-links/revoke`,
    ]) {
      const anon = await gw(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(anon.status).toBe(401);
    }
  });
});

describe("what a link reads", () => {
  it("its tenant's usage with thresholds, tasks with result links, deliveries, webhook and uploads", async () => {
    const harness = startSimulator();
    const t = await stockedTenant(harness, "hooks.reads.example");
    await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      json: { ...t.input, quotas: { monthly_credits: 500, alert_thresholds: [50, 90] } },
    });
    const { token } = await portalLink(t.id);

    const session = await (await papi(token, `/${t.id}/session`)).json<any>();
    expect(session).toMatchObject({ tenant_id: t.id, capabilities: ["read"] });

    const usage = await (await papi(token, `/${t.id}/usage`)).json<any>();
    expect(usage.tenant_id).toBe(t.id);
    expect(usage.alerts).toEqual({ monthly_credits: 500, thresholds: [50, 90] });
    expect(usage.days.some((d: any) => d.tasks_created === 1)).toBe(true);

    const tasks = await (await papi(token, `/${t.id}/tasks`)).json<any>();
    expect(tasks.data.map((x: any) => x.id)).toEqual([t.taskId]);
    expect(tasks.data[0]).not.toHaveProperty("upstream_id");
    const task = await (await papi(token, `/${t.id}/tasks/${t.taskId}`)).json<any>();
    expect(task).toMatchObject({ id: t.taskId, status: "completed" });
    expect(task).not.toHaveProperty("upstream_id");
    expect(task.results).toHaveLength(1);
    expect(task.results[0]).toMatch(/^https:\/\//);

    const list = await (await papi(token, `/${t.id}/deliveries`)).json<any>();
    expect(list.data.map((d: any) => d.id)).toEqual([t.deliveryId]);

    const hook = await (await papi(token, `/${t.id}/webhook`)).json<any>();
    expect(hook).toEqual({
      object: "webhook",
      url: `https://hooks.reads.example/hook`,
      secret_set: true,
      health: [
        expect.objectContaining({
          url: "https://hooks.reads.example/hook",
          state: "enabled",
          consecutive_failures: 0,
          success_ratio_24h: 1,
        }),
      ],
    });
    expect(JSON.stringify(hook)).not.toContain(t.webhookSecret);

    const uploads = await (await papi(token, `/${t.id}/uploads`)).json<any>();
    expect(uploads.data.map((f: any) => f.file_id)).toEqual([t.fileId]);
  });

  it("only the tenant's own events: the operator's events about it are neither listed nor sent again", async () => {
    const t = await webhookTenant();
    const state = await (await import("../helpers/objects")).objectOf(t.id);
    // A dead letter of the tenant's: the operator hears of it (delivery.dead_lettered, audience operator).
    const dead = await state.recordDelivery({
      eventId: "msg_dead",
      taskId: null,
      type: "quota.threshold",
      attempt: null,
      at: Date.now(),
      url: "https://hooks.acme.example/reelgate",
      statusCode: null,
      latencyMs: null,
      outcome: "dead_lettered",
      error: "exhausted",
      nextAttemptAt: null,
      redelivery: false,
    });
    const ops = await eventually(async () => {
      const list = (await state.listDeliveries(10, undefined, "operator")).data;
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    expect(ops.type).toBe("delivery.dead_lettered");
    const { token } = await portalLink(t.id, { capabilities: ["redeliver"] });
    const list = await (await papi(token, `/${t.id}/deliveries`)).json<any>();
    expect(list.data.map((d: any) => d.id)).toEqual([dead.id]);
    const res = await papi(token, `/${t.id}/deliveries/${ops.id}/redeliver`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    // The operator can: it is a real, redeliverable event.
    expect((await admin(`/admin/deliveries/${ops.id}/redeliver`, { method: "POST" })).status).toBe(202);
  });
});

describe("capabilities, checked on the server", () => {
  it("a read-only link is refused every action (403 forbidden); each capability allows its own action only", async () => {
    const harness = startSimulator();
    const t = await stockedTenant(harness, "hooks.caps.example");
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const actions: [string, string, string, number, unknown?][] = [
      ["redeliver", "POST", `/${t.id}/deliveries/${t.deliveryId}/redeliver`, 202],
      ["redeliver", "POST", `/${t.id}/deliveries/recover`, 202, { since }],
      ["rotate_secret", "POST", `/${t.id}/webhook/rotate-secret`, 200],
      ["edit_webhook", "PUT", `/${t.id}/webhook`, 200, { url: "https://hooks.caps.example/new" }],
      ["edit_webhook", "POST", `/${t.id}/webhook/enable`, 200],
      ["edit_webhook", "POST", `/${t.id}/webhook/test-event`, 202],
    ];
    const readOnly = (await portalLink(t.id)).token;
    for (const [, method, path, , json] of actions) {
      const res = await papi(readOnly, path, { method, json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    for (const cap of new Set(actions.map(([c]) => c))) {
      const token = (await portalLink(t.id, { capabilities: [cap] })).token;
      for (const [other, method, path, allowed, json] of actions) {
        const res = await papi(token, path, { method, json });
        expect(res.status, `${cap} → ${method} ${path}`).toBe(other === cap ? allowed : 403);
      }
    }
    // What the allowed actions did.
    const stored = await (await admin(`/admin/tenants/${t.id}`)).json<any>();
    expect(stored.webhook.url).toBe("https://hooks.caps.example/new");
    expect(stored.webhook.previous_secret_expires_at).toBeDefined();
  });

  it("the webhook shows each endpoint's health; only the tenant's own endpoint can be re-enabled", async () => {
    const t = await webhookTenant();
    const other = await webhookTenant({ url: "https://hooks.other.example/x" });
    const { token } = await portalLink(t.id, { capabilities: ALL_CAPABILITIES });
    const webhook = await (await papi(token, `/${t.id}/webhook`)).json<any>();
    expect(webhook.health[0]).toMatchObject({ url: webhook.url, state: "enabled", consecutive_failures: 0 });
    for (const url of ["https://hooks.other.example/x", "https://unknown.example/hook"]) {
      const res = await papi(token, `/${t.id}/webhook/enable`, { method: "POST", json: { url } });
      expect(res.status, url).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
    expect(other.id).not.toBe(t.id);
  });

  it("rotation shows the new secret once; a bad webhook URL is the field's 400", async () => {
    const t = await webhookTenant();
    const { token } = await portalLink(t.id, { capabilities: ALL_CAPABILITIES });
    const rotated = await (
      await papi(token, `/${t.id}/webhook/rotate-secret`, { method: "POST" })
    ).json<any>();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(t.webhookSecret);
    expect(rotated.previous_secret_expires_at).toBeDefined();
    const again = await (await papi(token, `/${t.id}/webhook`)).json<any>();
    expect(again.secret).toBeUndefined();
    expect(JSON.stringify(again)).not.toContain(rotated.secret);
    for (const url of ["http://hooks.example/x", "https://127.0.0.1/x", "not a url"]) {
      const res = await papi(token, `/${t.id}/webhook`, { method: "PUT", json: { url } });
      expect(res.status, url).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: "url" } });
    }
  });
});

describe("tokens that must not work: 401", () => {
  it("none, garbage, altered, forged, of another kind, and expired", async () => {
    const t = await webhookTenant();
    const { token } = await portalLink(t.id, { capabilities: ALL_CAPABILITIES });
    expect((await papi(token, `/${t.id}/session`)).status).toBe(200);
    const incarnation = t.incarnation;
    const [payload, mac] = token.split(".") as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    const now = Date.now();
    const claims = {
      tenantId: t.id,
      incarnation,
      issuedAt: now,
      expiresAt: now + 60_000,
      capabilities: ["read" as const],
    };
    const bad = [
      null,
      "",
      "garbage",
      `${flip(payload, 3)}.${mac}`,
      `${payload}.${flip(mac, 2)}`,
      `${payload}.${mac}.x`,
      await signPortalToken("another-signing-secret-0123456789abcdef", claims),
      // A result URL's token: the same form, another domain.
      await signResultToken(SECRET, { tenantId: t.id, incarnation, task: "x", idx: 0, until: now + 60_000 }),
      await signPortalToken(SECRET, { ...claims, issuedAt: now - 120_000, expiresAt: now - 1_000 }),
    ];
    for (const b of bad) await expect401(await papi(b === null ? null : b, `/${t.id}/session`));
    // Every route, not only the session.
    for (const [method, path] of [
      ["GET", `/${t.id}/tasks`],
      ["GET", `/${t.id}/usage`],
      ["GET", `/${t.id}/uploads`],
      ["POST", `/${t.id}/webhook/rotate-secret`],
    ] as const)
      await expect401(await papi("garbage", path, { method }));
  });

  it("revoked: every link issued before the revocation, and only those; an admin PUT keeps the revocation", async () => {
    const t = await webhookTenant();
    const a = await portalLink(t.id);
    const b = await portalLink(t.id, { capabilities: ALL_CAPABILITIES });
    const res = await admin(`/admin/tenants/${t.id}/portal-links/revoke`, { method: "POST" });
    expect(res.status).toBe(200);
    const revoked = await res.json<any>();
    expect(revoked).toMatchObject({ object: "portal_links_revoked", tenant_id: t.id });
    for (const link of [a, b]) await expect401(await papi(link.token, `/${t.id}/session`));
    const c = await portalLink(t.id);
    expect((await papi(c.token, `/${t.id}/session`)).status).toBe(200);
    // An operator's edit of the tenant carries the revocation over.
    await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    await expect401(await papi(a.token, `/${t.id}/session`));
    const view = await (await admin(`/admin/tenants/${t.id}`)).json<any>();
    expect(view.portal.links_valid_after).toBe(revoked.links_valid_after);
  });

  it("of an earlier life of the tenant, and of a deleted tenant", async () => {
    const fixture = hsTenant();
    await createTenant(fixture);
    const old = await portalLink(fixture.id, { capabilities: ALL_CAPABILITIES });
    expect((await admin(`/admin/tenants/${fixture.id}`, { method: "DELETE" })).status).toBe(204);
    await expect401(await papi(old.token, `/${fixture.id}/session`));
    await createTenant(fixture);
    await expect401(await papi(old.token, `/${fixture.id}/session`));
    await expect401(await papi(old.token, `/${fixture.id}/webhook/rotate-secret`, { method: "POST" }));
    const fresh = await portalLink(fixture.id);
    expect((await papi(fresh.token, `/${fixture.id}/session`)).status).toBe(200);
  });
});

describe("the portal's own limit", () => {
  it("every call of a tenant's links counts under portal:<tenant>; over it, 429 before anything is read", async () => {
    const keys: string[] = [];
    const counts = new Map<string, number>();
    // As strict as the local binding (`{ key }` only), with a limit of 3 so the test stays small.
    const limiter = {
      limit: async (options: { key: string }) => {
        expect(Object.keys(options)).toEqual(["key"]);
        keys.push(options.key);
        const used = counts.get(options.key) ?? 0;
        counts.set(options.key, used + 1);
        return { success: used < 3 };
      },
    };
    const vars = { READ_LIMIT_USER: limiter };
    const t = await webhookTenant();
    const u = await webhookTenant();
    const a = await portalLink(t.id, { capabilities: ALL_CAPABILITIES });
    const b = await portalLink(t.id);
    const other = await portalLink(u.id);
    expect((await papi(a.token, `/${t.id}/session`, { vars })).status).toBe(200);
    expect((await papi(b.token, `/${t.id}/tasks`, { vars })).status).toBe(200);
    expect((await papi(a.token, `/${t.id}/usage`, { vars })).status).toBe(200);
    // The fourth call of the tenant's links, whichever link and route: refused.
    const res = await papi(b.token, `/${t.id}/webhook`, { vars });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("10");
    const body = await res.json<any>();
    expect(body.error).toMatchObject({ code: "rate_limit_exceeded", type: "rate_limit_error" });
    expect(body.error.message).toContain("portal links");
    // Another tenant's links count apart; a token that is not a signed portal token counts nowhere.
    expect((await papi(other.token, `/${u.id}/session`, { vars })).status).toBe(200);
    await expect401(await papi("garbage", `/${t.id}/session`, { vars }));
    expect(keys).toEqual([...Array(4).fill(`portal:${t.id}`), `portal:${u.id}`]);
  });
});

describe("the page and its frame-ancestors", () => {
  const csp = (res: Response) => res.headers.get("content-security-policy") ?? "";

  it("is framed only by the tenant's portal.frame_ancestors; none: 'none'; an unknown tenant gets the same page", async () => {
    const framed = await createTenant(
      hsTenant({ portal: { frame_ancestors: ["https://partner.example", "https://*.acme.example:8443"] } }),
    );
    const plain = await createTenant();
    const a = await gw(`/portal/${framed.id}`);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toContain("text/html");
    expect(csp(a)).toContain("frame-ancestors https://partner.example https://*.acme.example:8443");
    const b = await gw(`/portal/${plain.id}`);
    expect(csp(b)).toContain("frame-ancestors 'none'");
    const unknown = await gw(`/portal/nobody-here`);
    expect(unknown.status).toBe(200);
    expect(csp(unknown)).toBe(csp(b));
    const [pb, pu] = [await b.text(), await unknown.text()];
    expect(pu).toBe(pb);
    expect(pb).toContain('src="/portal-assets/app.js"');
    for (const res of [a, b, unknown]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(csp(res)).toContain("script-src 'self'");
    }
    // Each tenant's own: an edit changes it.
    await admin(`/admin/tenants/${plain.id}`, {
      method: "PUT",
      json: { ...plain.input, portal: { frame_ancestors: ["https://embed.example"] } },
    });
    expect(csp(await gw(`/portal/${plain.id}`))).toMatch(/frame-ancestors https:\/\/embed\.example$/);
    expect(csp(await gw(`/portal/${framed.id}`))).not.toContain("embed.example");
  });

  it.each([
    "http://partner.example",
    "https://partner.example/path",
    "https://Partner.example",
    "https://partner.example; script-src *",
    "https://partner.example https://evil.example",
    "*",
    "'self'",
  ])("refuses %j as a frame ancestor", async (origin) => {
    const fixture = hsTenant({ portal: { frame_ancestors: [origin] } });
    const res = await admin(`/admin/tenants/${fixture.id}`, { method: "PUT", json: fixture.input });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { param: expect.stringContaining("portal.frame_ancestors") },
    });
  });
});
