// Webhook endpoints that heal or get switched off (issue 16; docs/callbacks.md, "Endpoint health"), through
// the real app, the local queue and the test retry schedule (1 s, 1 s, 1 s): an endpoint failing for
// WEBHOOK_DISABLE_AFTER_HOURS (compressed here to seconds, set on the tenant's object) is disabled, the
// operator hears of it, new events are held without attempts, a re-enable releases them oldest first;
// "recover since T" sends failed events again under their webhook-ids; `webhook.test` is signed and
// recorded; the health figures; `webhook.max_per_second` paces deliveries.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { EndpointHealth } from "../../src/callbacks/health";
import type { Env } from "../../src/env";
import { objectOf } from "../helpers/objects";
import { admin, startSimulator } from "../helpers/gateway";
import { route } from "../helpers/outbound";
import {
  HOOK_HOST,
  HOOK_URL,
  createTask,
  deliveries,
  eventually,
  receiver,
  webhookTenant,
  type WebhookTenant,
} from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OPS_SECRET = "whsec_b3BlcmF0b3Itd2ViaG9vay1zZWNyZXQtZm9yLXRlc3Rz";

async function health(tenantId: string): Promise<EndpointHealth[]> {
  const res = await admin(`/admin/tenants/${tenantId}/webhook/health`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: EndpointHealth[] }).data;
}

/** The tenant's object runs with these settings on top of the suite's (as the Registry tests do). */
async function configure(t: WebhookTenant, vars: Record<string, string>): Promise<void> {
  await runInDurableObject(await objectOf(t.id), (instance) => {
    (instance as unknown as { env: Env }).env = { ...(env as Env), ...vars } as Env;
  });
}

/** The operator's events, verified with the suite's operator secret. */
function operatorEvents(): { type: string; data: Record<string, unknown> }[] {
  const got: { type: string; data: Record<string, unknown> }[] = [];
  route("ops.reelgate.test", async (req) => {
    const body = await req.text();
    got.push(new Webhook(OPS_SECRET).verify(body, Object.fromEntries(req.headers)) as (typeof got)[number]);
    return new Response("ok");
  });
  return got;
}

describe("webhook endpoint health", () => {
  it("disables an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS, holds new events unattempted, and a re-enable delivers them oldest first", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    // 1.44 s: the third attempt of the first event (about 2 s after its first) finds the run long enough.
    await configure(t, { WEBHOOK_DISABLE_AFTER_HOURS: "0.0004" });
    const ops = operatorEvents();
    const hooks = receiver(HOOK_HOST, [500]);
    const first = await createTask(t);
    await clock.advance(6_000);

    const records = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list[0]?.outcome).toBe("held");
      return list;
    }, 10_000);
    // Held, not dead-lettered: no attempt after the one that found the endpoint disabled.
    const attempts = hooks.length;
    expect(records.map((r) => r.outcome)).toEqual(["held", ...Array(attempts - 1).fill("retrying")]);
    const disabled = await eventually(() => {
      const e = ops.find((o) => o.type === "webhook.endpoint_disabled");
      expect(e).toBeDefined();
      return e!;
    });
    expect(disabled.data).toMatchObject({ tenant_id: t.id, url: HOOK_URL, consecutive_failures: attempts });

    // New events are held, never attempted.
    const second = await createTask(t);
    const third = await createTask(t);
    await clock.advance(6_000);
    await eventually(async () => expect((await health(t.id))[0]).toMatchObject({ held: 3 }));
    await sleep(1_500);
    expect(hooks).toHaveLength(attempts);
    const [endpoint] = await health(t.id);
    expect(endpoint).toMatchObject({ url: HOOK_URL, state: "disabled", consecutive_failures: attempts });
    expect(endpoint!.disabled_at).not.toBeNull();

    // A test event is not held: it is how one checks the endpoint is back.
    const back = receiver(HOOK_HOST, [200]);
    const test = await admin(`/admin/tenants/${t.id}/webhook/test`, { method: "POST" });
    expect(test.status).toBe(202);
    await eventually(() => expect(back).toHaveLength(1));
    expect((await health(t.id))[0]).toMatchObject({ state: "disabled", held: 3 });

    const res = await admin(`/admin/tenants/${t.id}/webhook/enable`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: HOOK_URL, state: "enabled", released: 3 });
    await eventually(() => expect(back).toHaveLength(4));
    const tasks = back.slice(1).map((h) => (JSON.parse(h.body) as { id: string }).id);
    expect(tasks).toEqual([first, second, third]);
    expect((await health(t.id))[0]).toMatchObject({ state: "enabled", consecutive_failures: 0, held: 0 });
  });

  it("recovers every failed event since T, once each, with its original webhook-id", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    const since = new Date(Date.now() - 1_000).toISOString();
    const hooks = receiver(HOOK_HOST, [410]); // permanent: one attempt each, `failed`
    await createTask(t);
    await createTask(t);
    await clock.advance(6_000);
    const failed = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list.map((r) => r.outcome)).toEqual(["failed", "failed"]);
      return list;
    });
    expect(hooks).toHaveLength(2);

    const later = await admin(`/admin/tenants/${t.id}/deliveries/recover`, {
      method: "POST",
      json: { since: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(await later.json()).toMatchObject({ queued: 0 });

    const ok = receiver(HOOK_HOST, [200]);
    const res = await admin(`/admin/tenants/${t.id}/deliveries/recover`, { method: "POST", json: { since } });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ object: "recovery", queued: 2, status: "queued" });
    await eventually(() => expect(ok).toHaveLength(2));
    const ids = ok.map((h) => h.headers["webhook-id"]).sort();
    expect(ids).toEqual(failed.map((r) => r.event_id).sort());
    for (const h of ok) expect(new Webhook(t.webhookSecret).verify(h.body, h.headers)).toBeTruthy();
    const after = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list.filter((r) => r.outcome === "delivered")).toHaveLength(2);
      return list;
    });
    expect(after.filter((r) => r.outcome === "delivered").every((r) => r.redelivery)).toBe(true);

    // Delivered now: a second recovery finds nothing to send.
    const again = await admin(`/admin/tenants/${t.id}/deliveries/recover`, {
      method: "POST",
      json: { since },
    });
    expect(await again.json()).toMatchObject({ queued: 0 });
    await sleep(500);
    expect(ok).toHaveLength(2);

    const bad = await admin(`/admin/tenants/${t.id}/deliveries/recover`, {
      method: "POST",
      json: { since: "yesterday" },
    });
    expect(bad.status).toBe(400);
  });

  it("sends webhook.test signed like every other event, and records it", async () => {
    const t = await webhookTenant();
    const hooks = receiver();
    const res = await admin(`/admin/tenants/${t.id}/webhook/test`, { method: "POST" });
    expect(res.status).toBe(202);
    const { event_id } = (await res.json()) as { event_id: string };
    await eventually(() => expect(hooks).toHaveLength(1));
    expect(hooks[0]!.headers["webhook-id"]).toBe(event_id);
    expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({
      type: "webhook.test",
      data: { tenant_id: t.id },
    });
    const [record] = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(record).toMatchObject({ event_id, type: "webhook.test", outcome: "delivered", url: HOOK_URL });

    // No webhook URL: nothing to test.
    const none = await webhookTenant(null);
    expect((await admin(`/admin/tenants/${none.id}/webhook/test`, { method: "POST" })).status).toBe(400);
  });

  it("shows each endpoint's run of failures, last success and 24 h success ratio", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    expect(await health(t.id)).toEqual([
      {
        url: HOOK_URL,
        state: "enabled",
        consecutive_failures: 0,
        first_failure_at: null,
        last_success_at: null,
        success_ratio_24h: null,
        disabled_at: null,
        held: 0,
      },
    ]);
    const hooks = receiver(HOOK_HOST, [200, 410, 410]);
    for (let i = 1; i <= 3; i++) {
      await createTask(t);
      await clock.advance(6_000);
      await eventually(() => expect(hooks).toHaveLength(i));
    }
    const list = await eventually(async () => {
      const l = await deliveries(t.id);
      expect(l).toHaveLength(3);
      return l;
    });
    const [endpoint] = await health(t.id);
    expect(endpoint).toMatchObject({
      url: HOOK_URL,
      state: "enabled",
      consecutive_failures: 2,
      first_failure_at: list[1]!.attempted_at,
      last_success_at: list[2]!.attempted_at,
      disabled_at: null,
      held: 0,
    });
    expect(endpoint!.success_ratio_24h).toBeCloseTo(1 / 3);
  });

  it("paces deliveries to webhook.max_per_second, losing none", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant({ url: HOOK_URL, max_per_second: 10 });
    const at: number[] = [];
    const hooks = receiver();
    route(HOOK_HOST, async (req) => {
      at.push(Date.now());
      hooks.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response("ok");
    });
    const n = 20;
    for (let i = 0; i < n; i++) await createTask(t);
    await clock.advance(6_000); // every task ends at once
    await eventually(() => expect(hooks).toHaveLength(n), 15_000);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(n);
    const rate = (n - 1) / ((at[n - 1]! - at[0]!) / 1000);
    expect(rate).toBeLessThanOrEqual(10.5);
    // Nor bunched within a second: late timers once let POSTs whose slots had passed leave together (13 seen
    // under the full suite); the consumer now spaces them from when the previous one left. 11: one more
    // where two sends sit at a window's edges.
    let peak = 0;
    for (const start of at) peak = Math.max(peak, at.filter((x) => x >= start && x < start + 1000).length);
    expect(peak).toBeLessThanOrEqual(11);
  });

  it("webhook.max_per_second: a positive number, shown, kept by a secret rotation, dropped by a PUT without it", async () => {
    const t = await webhookTenant({ url: HOOK_URL, max_per_second: 2.5 });
    const shown = await (await admin(`/admin/tenants/${t.id}`)).json();
    expect(shown).toMatchObject({ webhook: { url: HOOK_URL, max_per_second: 2.5 } });
    const rotated = await admin(`/admin/tenants/${t.id}/webhook-secret/rotate`, { method: "POST" });
    expect(await rotated.json()).toMatchObject({ webhook: { max_per_second: 2.5 } });
    const input = { ...t.input, webhook: { url: HOOK_URL, max_per_second: 0 } };
    expect((await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: input })).status).toBe(400);
    const without = { ...t.input, webhook: { url: HOOK_URL } };
    const put = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: without });
    expect(((await put.json()) as { webhook: object }).webhook).not.toHaveProperty("max_per_second");
  });
});
