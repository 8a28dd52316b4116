// Alerts before the wall (docs/quotas.md): `quota.threshold` to the tenant's webhook the first time in a
// month that a scope's credits used plus reserved reach one of its alert thresholds, and the operator's
// `tenant.quota_exhausted` at 100 %. The event row is written in the step that moves the counter, so a
// burst that crosses a threshold sends exactly one event, however the requests interleave.
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { objectOf } from "../helpers/objects";
import { admin, startSimulator } from "../helpers/gateway";
import {
  deliveries,
  eventually,
  HOOK_HOST,
  receiver,
  webhookTenant,
  type WebhookTenant,
} from "../callbacks/helpers";
import { BODY_CREDITS, admitAt, generate, upstreamTask } from "../quota/helpers";

const OPS_HOST = "ops.reelgate.test";
const OPS_SECRET = "whsec_b3BlcmF0b3Itd2ViaG9vay1zZWNyZXQtZm9yLXRlc3Rz";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Event {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** The signed events of `type` a receiver got, verified with `secret`. */
function events(received: { headers: Record<string, string>; body: string }[], secret: string, type: string) {
  return received
    .map((r) => ({
      id: r.headers["webhook-id"]!,
      ...(new Webhook(secret).verify(r.body, r.headers) as object),
    }))
    .filter((e) => (e as { type?: string }).type === type) as Event[];
}

/** Rows of the tenant object's tables (what was recorded, whatever the queue did). */
async function rows(tenantId: string, sql: string): Promise<Record<string, unknown>[]> {
  return runInDurableObject(await objectOf(tenantId), (_o, state: DurableObjectState) =>
    state.storage.sql.exec(sql).toArray(),
  );
}

async function burst(t: WebhookTenant, n: number, sub: (i: number) => string) {
  const responses = await Promise.all(Array.from({ length: n }, (_, i) => generate(t, { sub: sub(i) })));
  return responses.filter((r) => r.status === 200).length;
}

describe("quota.threshold", () => {
  it(
    "50 concurrent creations crossing 80 % send exactly one event (20 runs)",
    { timeout: 240_000 },
    async () => {
      startSimulator();
      const hooks = receiver();
      const tenants: WebhookTenant[] = [];
      for (let run = 0; run < 20; run++) {
        // 60 tasks' worth of credits: the 48th reservation reaches 80 %, the 50th stays under 100 %.
        const t = await webhookTenant(undefined, { quotas: { monthly_credits: 60 * BODY_CREDITS } });
        tenants.push(t);
        expect(await burst(t, 50, (i) => `user-${i}`)).toBe(50);
      }
      for (const t of tenants) {
        const stored = await rows(t.id, "SELECT scope, threshold, audience FROM quota_alerts");
        expect(stored).toEqual([{ scope: "tenant", threshold: 80, audience: "tenant" }]);
      }
      await eventually(() => expect(hooks.length).toBe(20), 20_000);
      await sleep(300); // a second event of any run would be on its way by now
      expect(hooks).toHaveLength(20);
      const month = new Date().toISOString().slice(0, 7);
      for (const t of tenants) {
        const mine = hooks.filter((h) => h.body.includes(`"limit":${60 * BODY_CREDITS}`));
        expect(mine.length).toBe(20);
        const got = events(
          hooks.filter((h) => deliveredTo(h, t)),
          t.webhookSecret,
          "quota.threshold",
        );
        expect(got).toHaveLength(1);
        expect(got[0]!.data).toEqual({
          scope: "tenant",
          threshold: 80,
          month,
          used: expect.any(Number),
          limit: 60 * BODY_CREDITS,
        });
        expect(got[0]!.data.used as number).toBeGreaterThanOrEqual(48 * BODY_CREDITS - 1e-9);
      }
    },
  );

  it("a user's scope: 80 % and 100 % once each, with its sub; the operator hears of nothing", async () => {
    startSimulator();
    const hooks = receiver();
    const ops = receiver(OPS_HOST);
    const t = await webhookTenant(undefined, { user_quotas: { monthly_credits: 10 * BODY_CREDITS } });
    expect(await burst(t, 50, () => "alice")).toBe(10);
    await eventually(() => expect(mine(hooks, t)).toHaveLength(2));
    const got = events(mine(hooks, t), t.webhookSecret, "quota.threshold");
    expect(got.map((e) => e.data.threshold).sort()).toEqual([100, 80]);
    for (const e of got)
      expect(e.data).toMatchObject({ scope: "user", sub: "alice", limit: 10 * BODY_CREDITS });
    // Only the tenant's own 100 % concerns the operator.
    expect(exhaustedOf(ops, t)).toEqual([]);
    const listed = await deliveries(t.id);
    expect(listed.filter((d) => d.type === "quota.threshold")).toHaveLength(2);
    expect(listed.every((d) => d.task_id === null || d.type !== "quota.threshold")).toBe(true);
  });

  it("the tenant at 100 %: quota.threshold 80 and 100 to the tenant, tenant.quota_exhausted once to the operator", async () => {
    startSimulator();
    const hooks = receiver();
    const ops = receiver(OPS_HOST);
    const t = await webhookTenant(undefined, { quotas: { monthly_credits: 10 * BODY_CREDITS } });
    expect(await burst(t, 50, (i) => `u${i}`)).toBe(10);
    await eventually(() => expect(exhaustedOf(ops, t)).toHaveLength(1));
    await eventually(() => expect(hooks).toHaveLength(2));
    expect(
      events(hooks, t.webhookSecret, "quota.threshold")
        .map((e) => e.data.threshold)
        .sort(),
    ).toEqual([100, 80]);
    const [exhausted] = exhaustedOf(ops, t);
    expect(exhausted!.data).toEqual({
      tenant_id: t.id,
      month: new Date().toISOString().slice(0, 7),
      used: 10 * BODY_CREDITS,
      limit: 10 * BODY_CREDITS,
    });
    // More refused requests change nothing.
    expect(await burst(t, 5, (i) => `v${i}`)).toBe(0);
    await sleep(300);
    expect(exhaustedOf(ops, t)).toHaveLength(1);
    expect(mine(hooks, t)).toHaveLength(2);
  });

  it("the tenant's own alert_thresholds; [] sends none", async () => {
    startSimulator();
    const hooks = receiver();
    const some = await webhookTenant(undefined, {
      quotas: { monthly_credits: 10 * BODY_CREDITS, alert_thresholds: [25, 50] },
    });
    const none = await webhookTenant(undefined, {
      quotas: { monthly_credits: 10 * BODY_CREDITS, alert_thresholds: [] },
    });
    expect(await burst(some, 4, (i) => `u${i}`)).toBe(4); // 40 %: reaches 25 only
    expect(await burst(none, 10, (i) => `u${i}`)).toBe(10);
    await eventually(() => expect(mine(hooks, some)).toHaveLength(1));
    await sleep(300);
    expect(mine(hooks, some)).toHaveLength(1);
    expect(mine(hooks, none)).toHaveLength(0);
    expect(
      events(
        hooks.filter((h) => deliveredTo(h, some)),
        some.webhookSecret,
        "quota.threshold",
      )[0]!.data,
    ).toMatchObject({ threshold: 25 });
    expect(await rows(none.id, "SELECT threshold, audience FROM quota_alerts")).toEqual([
      { threshold: 100, audience: "operator" },
    ]);
  });

  it("once per scope, threshold and month: a new month alerts again, a reservation released and taken again does not; old months purged", async () => {
    const t = await webhookTenant(undefined, {});
    const limits = { monthly_credits: 100 };
    const dec = Date.UTC(2026, 11, 10);
    const jan = Date.UTC(2027, 0, 3);
    await admitAt(t.id, dec, { estimate: 85, tenant: limits, user: {} });
    const obj = await objectOf(t.id);
    // The task is aborted (its reservation goes), then another one reaches 85 % again in the same month.
    const [row] = await rows(t.id, "SELECT id FROM tasks");
    await obj.abortTask(row!.id as string, dec + 1);
    await admitAt(t.id, dec + 2, { estimate: 85, tenant: limits, user: {} });
    await admitAt(t.id, jan, { estimate: 90, tenant: limits, user: {} });
    expect(await rows(t.id, "SELECT month, threshold FROM quota_alerts ORDER BY month")).toEqual([
      { month: "2026-12", threshold: 80 },
      { month: "2027-01", threshold: 80 },
    ]);
    // Two months on, December's alerts are gone: no December task can move its counter any more.
    await admitAt(t.id, Date.UTC(2027, 2, 1), { estimate: 95, tenant: limits, user: {} });
    expect(await rows(t.id, "SELECT month FROM quota_alerts ORDER BY month")).toEqual([
      { month: "2027-01" },
      { month: "2027-03" },
    ]);
  });

  it("attach and settlement, which carry no limits, are judged against the limit admission stored", async () => {
    const t = await webhookTenant(undefined, {});
    const now = Date.now();
    const admitted = await admitAt(t.id, now, { sub: null, estimate: 70, tenant: { monthly_credits: 100 } });
    if (admitted.kind !== "admitted") throw new Error(admitted.kind);
    expect(await rows(t.id, "SELECT limit_units, alerts FROM quota_months")).toEqual([
      { limit_units: 100 * 10_000, alerts: "[80,100]" },
    ]);
    expect(await rows(t.id, "SELECT * FROM quota_alerts")).toEqual([]); // 70 %
    const obj = await objectOf(t.id);
    // The upstream reserves 85: the attach raises the hold past 80 %.
    await obj.attachUpstream(
      admitted.taskId,
      `pub-${admitted.taskId}`,
      upstreamTask("up-1", "pending", {
        usage: { credits_reserved: 85 },
      }),
      now + 1,
    );
    expect(await rows(t.id, "SELECT threshold FROM quota_alerts")).toEqual([{ threshold: 80 }]);
    // It costs 101 in the end: settlement reaches 100 % (and the operator's exhaustion).
    await obj.observe(
      admitted.taskId,
      upstreamTask("up-1", "completed", { usage: { credits_used: 101 } }),
      now + 2,
    );
    expect(
      await rows(t.id, "SELECT threshold, audience FROM quota_alerts ORDER BY threshold, audience"),
    ).toEqual([
      { threshold: 80, audience: "tenant" },
      { threshold: 100, audience: "operator" },
      { threshold: 100, audience: "tenant" },
    ]);
  });

  it("an event is redelivered with its original webhook-id and body", async () => {
    startSimulator();
    const hooks = receiver();
    const t = await webhookTenant(undefined, { quotas: { monthly_credits: 1.25 * BODY_CREDITS } });
    expect(await burst(t, 1, () => "u")).toBe(1);
    await eventually(() => expect(mine(hooks, t)).toHaveLength(1));
    const [record] = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(record).toMatchObject({
      type: "quota.threshold",
      audience: "tenant",
      task_id: null,
      outcome: "delivered",
    });
    const res = await admin(`/admin/deliveries/${record!.id}/redeliver`, { method: "POST" });
    expect(res.status).toBe(202);
    await eventually(() => expect(mine(hooks, t)).toHaveLength(2));
    const [first, again] = mine(hooks, t);
    expect(again!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(again!.body).toBe(first!.body);
  });
});

/** The operator's `tenant.quota_exhausted` events about tenant `t`. */
function exhaustedOf(ops: { headers: Record<string, string>; body: string }[], t: WebhookTenant) {
  return events(ops, OPS_SECRET, "tenant.quota_exhausted").filter((e) => e.data.tenant_id === t.id);
}

/** What a receiver got from tenant `t` (other tests' events may still arrive at the shared host). */
function mine<T extends { headers: Record<string, string>; body: string }>(
  hooks: T[],
  t: WebhookTenant,
): T[] {
  return hooks.filter((h) => deliveredTo(h, t));
}

/** Which tenant a received request belongs to: the one whose secret verifies it. */
function deliveredTo(h: { headers: Record<string, string>; body: string }, t: WebhookTenant): boolean {
  try {
    new Webhook(t.webhookSecret).verify(h.body, h.headers);
    return true;
  } catch {
    return false;
  }
}
