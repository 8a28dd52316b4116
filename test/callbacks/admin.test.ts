// The relay's admin API: secret rotation (shown once, previous kept 24 h), the delivery list (newest first,
// paged, expired records hidden) and redelivery, all behind the admin token.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DeliveryEntry } from "../../src/callbacks/delivery-log";
import { objectOf } from "../helpers/objects";
import { admin, gw } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { deliveries, webhookTenant } from "./helpers";

function entry(over: Partial<DeliveryEntry> = {}): DeliveryEntry {
  return {
    eventId: "msg_1",
    taskId: "task-unified-1-x",
    attempt: 1,
    at: Date.now(),
    url: "https://hooks.acme.example/reelgate",
    statusCode: 200,
    latencyMs: 12,
    outcome: "delivered",
    error: null,
    nextAttemptAt: null,
    redelivery: false,
    ...over,
  };
}

describe("admin: webhook secret rotation", () => {
  it("issues a new secret, shown once, and keeps the previous one for 24 hours", async () => {
    const t = await webhookTenant();
    const before = Date.now();
    const res = await admin(`/admin/tenants/${t.id}/webhook-secret/rotate`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { webhook: Record<string, unknown> };
    expect(body.webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(body.webhook.secret).not.toBe(t.webhookSecret);
    expect(body.webhook.url).toBe("https://hooks.acme.example/reelgate");
    const expires = Date.parse(body.webhook.previous_secret_expires_at as string);
    expect(expires - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(24 * 3600_000 + 5000);

    const read = await (await admin(`/admin/tenants/${t.id}`)).json();
    expect(JSON.stringify(read)).not.toContain(body.webhook.secret as string);
    expect(JSON.stringify(read)).not.toContain(t.webhookSecret);
    expect(read).toMatchObject({
      webhook: { secret_set: true, previous_secret_expires_at: expect.any(String) },
    });

    const stored = (await env.KV.get(`tenant:${t.id}`, "json")) as { webhook: Record<string, unknown> };
    expect(stored.webhook).toMatchObject({ secret: body.webhook.secret, previous_secret: t.webhookSecret });
  });

  it("a second rotation retires the oldest secret", async () => {
    const t = await webhookTenant();
    const first = (await (
      await admin(`/admin/tenants/${t.id}/webhook-secret/rotate`, { method: "POST" })
    ).json()) as { webhook: { secret: string } };
    await admin(`/admin/tenants/${t.id}/webhook-secret/rotate`, { method: "POST" });
    const stored = (await env.KV.get(`tenant:${t.id}`, "json")) as { webhook: Record<string, unknown> };
    expect(stored.webhook.previous_secret).toBe(first.webhook.secret);
    expect(JSON.stringify(stored)).not.toContain(t.webhookSecret);
  });

  it("answers 404 for an unknown tenant and 400 naming tenant_id for a malformed one", async () => {
    const rotate = (id: string) =>
      admin(`/admin/tenants/${encodeURIComponent(id)}/webhook-secret/rotate`, { method: "POST" });
    const unknown = await rotate("nobody-here");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "tenant_not_found" } });
    const malformed = await rotate("Not_A_Valid_Id!");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: "invalid_request", param: "tenant_id" } });
  });
});

describe("admin: deliveries", () => {
  it("lists a tenant's attempts newest first, in pages", async () => {
    const t = await webhookTenant();
    const state = await objectOf(t.id);
    for (let i = 1; i <= 5; i++)
      await state.recordDelivery(entry({ eventId: `msg_${i}`, at: Date.now() + i }));
    const page1 = (await (await admin(`/admin/tenants/${t.id}/deliveries?limit=2`)).json()) as {
      object: string;
      data: { event_id: string; id: string }[];
      cursor: string | null;
    };
    expect(page1.object).toBe("list");
    expect(page1.data.map((d) => d.event_id)).toEqual(["msg_5", "msg_4"]);
    expect(page1.data[0]!.id).toMatch(new RegExp(`^dlv_[a-z2-7]{24}\\.${t.id}$`));
    const page2 = (await (
      await admin(`/admin/tenants/${t.id}/deliveries?limit=2&cursor=${page1.cursor}`)
    ).json()) as typeof page1;
    expect(page2.data.map((d) => d.event_id)).toEqual(["msg_3", "msg_2"]);
    const page3 = (await (
      await admin(`/admin/tenants/${t.id}/deliveries?limit=2&cursor=${page2.cursor}`)
    ).json()) as typeof page1;
    expect(page3.data.map((d) => d.event_id)).toEqual(["msg_1"]);
    expect(page3.cursor).toBeNull();
  });

  it("hides records older than the retention (7 days) and prunes them", async () => {
    const t = await webhookTenant();
    const state = await objectOf(t.id);
    await state.recordDelivery(entry({ eventId: "msg_old", at: Date.now() - 8 * 24 * 3600_000 }));
    expect(await deliveries(t.id)).toEqual([]);
    await state.recordDelivery(entry({ eventId: "msg_new" }));
    expect((await deliveries(t.id)).map((d) => d.event_id)).toEqual(["msg_new"]);
  });

  it("is per tenant", async () => {
    const a = await webhookTenant();
    const b = await webhookTenant();
    await (await objectOf(a.id)).recordDelivery(entry());
    expect(await deliveries(b.id)).toEqual([]);
  });

  it.each([
    ["?limit=0", "limit"],
    ["?limit=101", "limit"],
    ["?limit=two", "limit"],
    ["?cursor=abc", "cursor"],
  ])("refuses %s", async (query, param) => {
    const t = await webhookTenant();
    const res = await admin(`/admin/tenants/${t.id}/deliveries${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param } });
  });

  it("answers 404 for an unknown tenant", async () => {
    const res = await admin(`/admin/tenants/nobody-here/deliveries`);
    expect(res.status).toBe(404);
  });

  it("answers 404 to redeliver a delivery that does not exist", async () => {
    const t = await webhookTenant();
    for (const id of [
      "dlv_nope",
      `dlv_${"a".repeat(24)}.${t.id}`,
      `dlv_${"a".repeat(24)}.nobody-here`,
      "x",
    ]) {
      const res = await admin(`/admin/deliveries/${encodeURIComponent(id)}/redeliver`, { method: "POST" });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "delivery_not_found" } });
    }
  });

  it("requires the admin token for every relay admin route", async () => {
    const t = await webhookTenant();
    const routes: [string, string][] = [
      ["POST", `/admin/tenants/${t.id}/webhook-secret/rotate`],
      ["GET", `/admin/tenants/${t.id}/deliveries`],
      ["POST", `/admin/deliveries/dlv_${"a".repeat(24)}.${t.id}/redeliver`],
    ];
    for (const [method, path] of routes) {
      for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }] as Record<
        string,
        string
      >[]) {
        const res = await gw(path, { method, headers });
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toContain("reelgate-admin");
      }
    }
    const stored = (await env.KV.get(`tenant:${t.id}`, "json")) as { webhook: Record<string, unknown> };
    expect(stored.webhook.secret).toBe(t.webhookSecret);
    expect(callsTo()).toEqual([]);
  });
});
