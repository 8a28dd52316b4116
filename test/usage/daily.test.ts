// GET /admin/tenants/{id}/usage/daily (the console's usage chart) through the real app: every day of the
// month with what its tasks reserved and were charged, the top users, and tasks and requests in flight
// against the tenant's limits. Plus the console's other additions: suspend/resume and the id-prefix search.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { monthOf } from "../../src/util/month";
import { objectOf } from "../helpers/objects";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { VALID_BODY, admin, gw, startSimulator } from "../helpers/gateway";
import { BODY_CREDITS, admitAt, createdId, generate, getTask, quotaTenant } from "../quota/helpers";

async function daily(id: string, query = ""): Promise<Record<string, any>> {
  const res = await admin(`/admin/tenants/${id}/usage/daily${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

describe("GET /admin/tenants/{id}/usage/daily", () => {
  it("charts the month per day: reserved, charged and held credits, tasks created and ended", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ max_concurrent_tasks: 5, requests_per_minute: 30, monthly_credits: 900 });
    const a = await createdId(await generate(t, { sub: "alice" }));
    const b = await createdId(
      await generate(t, { sub: "bob", body: { ...VALID_BODY, prompt: "x [sim:fail]" } }),
    );
    await clock.advance(6_000);
    await getTask(t, a, "alice");
    await getTask(t, b, "bob");
    await createdId(await generate(t, { sub: "alice" }));

    const body = await daily(t.id);
    const now = new Date();
    expect(body).toMatchObject({ object: "usage_daily", tenant_id: t.id, month: monthOf(now.getTime()) });
    const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    expect(body.days).toHaveLength(daysInMonth);
    const today = body.days.find((d: any) => d.date === now.toISOString().slice(0, 10));
    expect(today).toEqual({
      date: now.toISOString().slice(0, 10),
      credits_reserved: 3 * BODY_CREDITS,
      credits_charged: BODY_CREDITS,
      credits_held: BODY_CREDITS,
      tasks_created: 3,
      tasks_ended: 2,
    });
    const others = body.days.filter((d: any) => d !== today);
    expect(others.every((d: any) => d.tasks_created === 0 && d.credits_reserved === 0)).toBe(true);
    expect(body.top_users).toEqual([
      { sub: "alice", credits_reserved: 2 * BODY_CREDITS, credits_charged: BODY_CREDITS, tasks: 2 },
      { sub: "bob", credits_reserved: BODY_CREDITS, credits_charged: 0, tasks: 1 },
    ]);
    expect(body.in_flight).toEqual({ tasks: 1, limit: 5 });
    expect(body.requests).toEqual({ last_minute: 3, limit: 30 });
    expect(body.credits).toEqual({ charged: BODY_CREDITS, held: BODY_CREDITS, limit: 900 });
  });

  it("selects the month by ?month=YYYY-MM, puts each task on its UTC day, and leaves aborted tasks out", async () => {
    const t = await quotaTenant();
    await admitAt(t.id, Date.UTC(2026, 1, 1, 0, 0, 1), { estimate: 2, sub: "u1" });
    await admitAt(t.id, Date.UTC(2026, 1, 28, 23, 59, 59), { estimate: 3, sub: "u2" });
    await admitAt(t.id, Date.UTC(2026, 1, 28, 12), { estimate: 4, sub: null });
    await admitAt(t.id, Date.UTC(2026, 2, 1), { estimate: 100 });
    const aborted = await admitAt(t.id, Date.UTC(2026, 1, 1, 5), { estimate: 50, sub: "u3" });
    if (aborted.kind !== "admitted") throw new Error("not admitted");
    await (await objectOf(t.id)).abortTask(aborted.taskId, Date.UTC(2026, 1, 1, 5, 1));
    const body = await daily(t.id, "?month=2026-02");
    expect(body.days).toHaveLength(28);
    expect(body.days[0]).toMatchObject({ date: "2026-02-01", credits_reserved: 2, tasks_created: 1 });
    expect(body.days[27]).toMatchObject({ date: "2026-02-28", credits_reserved: 7, credits_held: 7 });
    expect(body.days.reduce((s: number, d: any) => s + d.tasks_created, 0)).toBe(3);
    expect(body.top_users.map((u: any) => u.sub)).toEqual(["u2", "u1"]);
    expect(body.credits).toBeNull();
    const march = await daily(t.id, "?month=2026-03");
    expect(march.days[0]).toMatchObject({ date: "2026-03-01", credits_reserved: 100 });
  });

  it("needs the admin token, a known tenant and a well-formed month", async () => {
    const t = await quotaTenant();
    expect((await gw(`/admin/tenants/${t.id}/usage/daily`)).status).toBe(401);
    const missing = await admin(`/admin/tenants/no-such-tenant/usage/daily`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "tenant_not_found" } });
    for (const q of ["?month=2026-13", "?month=oct"]) {
      const res = await admin(`/admin/tenants/${t.id}/usage/daily${q}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: "month" } });
    }
  });
});

describe("POST /admin/tenants/{id}/suspend and /resume", () => {
  it("changes the status and keeps the rest of the record, the HS256 secret included", async () => {
    const t = await createTenant(hsTenant({ quotas: { monthly_credits: 10 } }));
    const token = await t.token();
    const suspended = await admin(`/admin/tenants/${t.id}/suspend`, { method: "POST" });
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toMatchObject({
      id: t.id,
      status: "suspended",
      quotas: { monthly_credits: 10 },
    });
    const refused = await gw("/v1/usage", { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "tenant_suspended" } });

    const resumed = await admin(`/admin/tenants/${t.id}/resume`, { method: "POST" });
    expect(await resumed.json()).toMatchObject({ status: "active" });
    expect((await gw("/v1/usage", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const listed = (await (await admin(`/admin/tenants?q=${t.id}`)).json()) as any;
    expect(listed.data).toEqual([
      {
        id: t.id,
        name: t.input.name,
        status: "active",
        issuer: t.issuer,
        incarnation: expect.any(String),
        version: expect.any(Number),
      },
    ]);
  });

  it("answers 404 for an unknown tenant and needs the admin token", async () => {
    const res = await admin(`/admin/tenants/nobody-here/suspend`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "tenant_not_found" } });
    expect((await gw(`/admin/tenants/nobody-here/resume`, { method: "POST" })).status).toBe(401);
  });
});
