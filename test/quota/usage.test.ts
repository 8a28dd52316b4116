// Visibility: GET /v1/usage (the caller's own limits and usage), GET /admin/tenants/{id}/usage (the month's
// ledger), and the KV mirror of ended tasks.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { monthOf } from "../../src/util/month";
import { rowOf } from "../helpers/objects";
import type { TenantFixture } from "../fixtures/tenants";
import { GATEWAY, VALID_BODY, admin, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { BODY_CREDITS, admitAt, createdId, generate, getTask, quotaTenant, usage } from "./helpers";

const eventually = (check: () => Promise<void> | void) => vi.waitFor(check, { timeout: 5_000, interval: 50 });

describe("GET /v1/usage", () => {
  it("shows the tenant's limits, usage, remaining and reset times to a token without sub", async () => {
    startSimulator();
    const t = await quotaTenant(
      { requests_per_minute: 10, max_concurrent_tasks: 5, monthly_credits: 1000 },
      { max_concurrent_tasks: 2, monthly_credits: 100 },
    );
    await createdId(await generate(t, { sub: "alice" }));
    await createdId(await generate(t, { sub: "bob" }));
    const u = await usage(t, null);
    expect(u.object).toBe("usage");
    expect(u.user).toBeUndefined();
    expect(u.tenant).toMatchObject({
      requests_per_minute: { limit: 10, used: 2, remaining: 8, reset_at: expect.any(String) },
      concurrent_tasks: { limit: 5, active: 2, remaining: 3, next_slot_in_seconds: null },
      monthly_credits: { limit: 1000, month: monthOf(Date.now()), used: 0, reserved: 47.6, remaining: 952.4 },
    });
    expect(Date.parse(u.tenant.requests_per_minute.reset_at) - Date.now()).toBeLessThanOrEqual(60_000);
    expect(new Date(u.tenant.monthly_credits.reset_at).getUTCDate()).toBe(1);
  });

  it("shows a user token its own scope only, never the tenant-wide figures", async () => {
    startSimulator();
    const t = await quotaTenant(
      { requests_per_minute: 10, max_concurrent_tasks: 5, monthly_credits: 1000 },
      { max_concurrent_tasks: 2, monthly_credits: 100 },
    );
    await createdId(await generate(t, { sub: "alice" }));
    await createdId(await generate(t, { sub: "bob" }));
    const u = await usage(t, "alice");
    expect(Object.keys(u).sort()).toEqual(["object", "user"]);
    expect(u.user).toMatchObject({
      sub: "alice",
      requests_per_minute: { limit: null, used: 1, remaining: null },
      concurrent_tasks: { limit: 2, active: 1, remaining: 1 },
      monthly_credits: { limit: 100, used: 0, reserved: BODY_CREDITS, remaining: 76.2 },
      uploads: { max_files: { used: 0 }, monthly_upload_bytes: { used: 0 } },
    });
  });

  it("needs a valid token", async () => {
    const res = await gw("/v1/usage", bearer("not-a-token"));
    expect(res.status).toBe(401);
  });
});

async function ledger(t: TenantFixture | string, query = ""): Promise<Response> {
  return admin(`/admin/tenants/${typeof t === "string" ? t : t.id}/usage${query}`);
}

describe("GET /admin/tenants/{id}/usage", () => {
  it("lists the month's tasks with their credits and creator, and totals per tenant and user", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ monthly_credits: 500 }, { monthly_credits: 50 });
    const a = await createdId(await generate(t, { sub: "alice" }));
    const b = await createdId(
      await generate(t, { sub: "bob", body: { ...VALID_BODY, prompt: "x [sim:fail]" } }),
    );
    await clock.advance(6_000);
    await getTask(t, a, "alice");
    await getTask(t, b, "bob");
    const c = await createdId(await generate(t, { sub: "alice" }));

    const res = await ledger(t);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      object: "usage_ledger",
      tenant_id: t.id,
      month: monthOf(Date.now()),
      limits: { quotas: { monthly_credits: 500 }, user_quotas: { monthly_credits: 50 } },
      cursor: null,
    });
    expect(body.totals).toEqual([
      { scope: "tenant", used: BODY_CREDITS, reserved: BODY_CREDITS },
      { scope: "user", sub: "alice", used: BODY_CREDITS, reserved: BODY_CREDITS },
      { scope: "user", sub: "bob", used: 0, reserved: 0 },
    ]);
    expect(body.tasks.map((r: any) => [r.task_id, r.sub, r.status, r.reserved, r.charged])).toEqual([
      [a, "alice", "completed", BODY_CREDITS, BODY_CREDITS],
      [b, "bob", "failed", BODY_CREDITS, 0],
      [c, "alice", "pending", BODY_CREDITS, null],
    ]);
    expect(body.tasks[0]).toMatchObject({
      estimate: BODY_CREDITS,
      model: VALID_BODY.model,
      created_at: expect.any(String),
      ended_at: expect.any(String),
    });
  });

  it("pages with limit and cursor, and selects the month by ?month=YYYY-MM", async () => {
    const t = await quotaTenant();
    const oct = Date.UTC(2026, 9, 15);
    for (let i = 0; i < 5; i++) await admitAt(t.id, oct + i * 1000, { estimate: 1 + i });
    await admitAt(t.id, Date.UTC(2026, 8, 30, 23, 59), { estimate: 100 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await ledger(
        t,
        `?month=2026-10&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      const page = (await res.json()) as {
        tasks: { task_id: string; estimate: number }[];
        cursor: string | null;
        totals: any[];
      };
      expect(page.tasks.length).toBeLessThanOrEqual(2);
      expect(page.totals[0]).toEqual({ scope: "tenant", used: 0, reserved: 15 });
      seen.push(...page.tasks.map((r) => String(r.estimate)));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(["1", "2", "3", "4", "5"]);
    const sep = (await (await ledger(t, "?month=2026-09")).json()) as { tasks: unknown[] };
    expect(sep.tasks).toHaveLength(1);
  });

  it("needs the admin token, a known tenant and a well-formed month and limit", async () => {
    const t = await quotaTenant();
    expect((await gw(`/admin/tenants/${t.id}/usage`)).status).toBe(401);
    expect((await ledger("no-such-tenant")).status).toBe(404);
    for (const q of ["?month=2026-13", "?month=oct", "?limit=0", "?limit=1001", "?limit=x"]) {
      const res = await ledger(t, q);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
  });
});

describe("the KV mirror of the ledger", () => {
  it("writes one ledger entry per ended task (never for an aborted one)", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant();
    const id = await createdId(await generate(t));
    sim.inject({ create: { status: 500, count: 1 } });
    expect((await generate(t)).status).toBe(502);
    await clock.advance(6_000);
    await getTask(t, id);
    const prefix = `ledger:${t.id}:${monthOf(Date.now())}:`;
    // Keyed by the task's row in its object; the entry names the task by the id its tenant knows.
    const key = `${prefix}${await rowOf(t.id, id)}`;
    await eventually(async () => {
      const list = await env.KV.list({ prefix });
      expect(list.keys.map((k) => k.name)).toEqual([key]);
      expect(list.keys[0]!.metadata).toEqual({ sub: "user-1", status: "completed", charged: BODY_CREDITS });
    });
    expect(await env.KV.get(key, "json")).toMatchObject({
      task_id: id,
      status: "completed",
      reserved: BODY_CREDITS,
      charged: BODY_CREDITS,
    });
  });
});
