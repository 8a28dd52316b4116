// DELETE /admin/tenants/{id} ends the tenant's incarnation: refused while tasks are in flight (unless
// forced), then its tokens stop at once, its object's storage and its KV documents are gone, and a tenant
// re-created with the same id and issuer starts empty with a new incarnation.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { tenantPrefixes, wipePrefixes } from "../../src/state/buckets";
import { type TenantRef, tenantObject } from "../../src/state/client";
import { endIncarnation } from "../../src/tenants/lifecycle";
import { registry } from "../../src/tenants/registry-client";
import { forgetTenant } from "../../src/tenants/lookup";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { admin, bearer, gw, startSimulator } from "../helpers/gateway";
import { createdId, generate, getTask } from "../quota/helpers";

const del = (id: string, query = "") => admin(`/admin/tenants/${id}${query}`, { method: "DELETE" });

/** Rows in every table of the tenant's object (schema bookkeeping aside), and its alarm. */
function objectContents(ref: TenantRef) {
  return runInDurableObject(tenantObject(env, ref), async (_o, s: DurableObjectState) => {
    const tables = s.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' " +
          "AND name NOT IN ('migrations', 'sqlite_sequence')",
      )
      .toArray()
      .map((r) => r.name);
    const rows = Object.fromEntries(
      tables.map((t) => [t, s.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${t}"`).one().n]),
    );
    return { tables, rows, alarm: await s.storage.getAlarm() };
  });
}

/** The tenant's current incarnation, read before it ends (the object is named by it). */
async function refOf(id: string): Promise<TenantRef> {
  const view = (await (await admin(`/admin/tenants/${id}`)).json()) as { incarnation: string };
  return { id, incarnation: view.incarnation };
}

const neverUsed = (): TenantRef => ({
  id: `never-used-${crypto.randomUUID().slice(0, 8)}`,
  incarnation: "neverusedlife000",
});

async function kvKeys(prefix: string): Promise<string[]> {
  return (await env.KV.list({ prefix })).keys.map((k) => k.name);
}

/** The tenant-wide figures: a token without `sub` (a user token sees its own scope only). */
async function usageOf(t: TenantFixture) {
  const res = await gw("/v1/usage", bearer(await t.token({ sub: null })));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

describe("DELETE /admin/tenants/{id}", () => {
  it("answers 409 tenant_busy while a task is in flight, and deletes nothing", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant(hsTenant({ quotas: { monthly_credits: 1000 } }));
    const ref = await refOf(t.id);
    const id = await createdId(await generate(t));

    const res = await del(t.id);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      error: {
        code: "tenant_busy",
        type: "conflict_error",
        message: expect.stringContaining("1 task in flight"),
      },
    });
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(200);
    expect((await getTask(t, id)).status).toBe(200);
    expect((await usageOf(t)).tenant.concurrent_tasks.active).toBe(1);
    expect((await objectContents(ref)).rows.tasks).toBe(1);
    expect((await del(t.id, "?force=maybe")).status).toBe(400);
  });

  it("with ?force=true: 204, its tokens get 401 at once, its object and KV documents are empty", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant(hsTenant({ quotas: { monthly_credits: 1000 } }));
    const ref = await refOf(t.id);
    const ended = await createdId(await generate(t));
    await clock.advance(6_000);
    expect((await getTask(t, ended)).status).toBe(200);
    // The ended task's ledger entry reaches KV from the object's alarm.
    await vi.waitFor(async () => expect(await kvKeys(`ledger:${t.id}:`)).toHaveLength(1), {
      timeout: 5_000,
      interval: 50,
    });
    const running = await createdId(await generate(t));
    await tenantObject(env, ref).recordDelivery({
      eventId: "msg_1",
      taskId: ended,
      attempt: 1,
      at: Date.now(),
      url: "https://hooks.acme.example/reelgate",
      statusCode: 200,
      latencyMs: 5,
      outcome: "delivered",
      error: null,
      nextAttemptAt: null,
      redelivery: false,
    });
    const before = (await objectContents(ref)).rows;
    expect(before).toMatchObject({ tasks: 2, quota_months: 2 });
    // This record, and perhaps already the operator's usage.settled for the ended task.
    expect(before.webhook_deliveries).toBeGreaterThanOrEqual(1);

    const res = await del(t.id, "?force=true");
    expect(res.status).toBe(204);

    const token = await t.token();
    expect((await gw("/v1/usage", bearer(token))).status).toBe(401);
    expect((await gw(`/v1/tasks/${running}`, bearer(token))).status).toBe(401);
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(404);

    const contents = await objectContents(ref);
    expect(contents.tables).toContain("tasks");
    // Exactly what a never-used object holds: empty tables (quota_open's zero `tenant` row), no alarm.
    expect(contents).toEqual(await objectContents(neverUsed()));
    expect(contents.rows).toMatchObject({ tasks: 0, webhook_outbox: 0, quota_months: 0, idempotency: 0 });
    expect(contents.alarm).toBeNull();
    expect(await kvKeys(`ledger:${t.id}:`)).toEqual([]);
    expect(await kvKeys(`quota:${t.id}`)).toEqual([]);
    expect(await env.KV.get(`tenant:${t.id}`)).toBeNull();
    expect(await env.KV.get(`issuer:${t.issuer}`)).toBeNull();
    expect((await del(t.id, "?force=true")).status).toBe(404);
  });

  it("a tenant re-created with the same id and issuer starts empty: old task ids, callback URLs and usage are gone", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant(hsTenant({ quotas: { monthly_credits: 1000, max_concurrent_tasks: 5 } }));
    const ref = await refOf(t.id);
    const oldTask = await createdId(await generate(t));
    await createdId(await generate(t));
    const oldCallback = new URL(sim.tasks()[0]!.request.callback_url!);
    await clock.advance(6_000);
    expect((await getTask(t, oldTask)).status).toBe(200); // the old life's task, polled to its end
    expect((await usageOf(t)).tenant.concurrent_tasks.active).toBe(1);
    expect((await del(t.id, "?force=true")).status).toBe(204);

    const again = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(again.status).toBe(201);
    const view = (await again.json()) as { incarnation: string };
    expect(view.incarnation).toMatch(/^[a-z2-7]{16}$/);
    expect(view.incarnation).not.toBe(ref.incarnation);
    const u = await usageOf(t);
    expect(u.tenant.concurrent_tasks.active).toBe(0);
    expect(u.tenant.requests_per_minute.used).toBe(0);
    expect(u.tenant.monthly_credits).toMatchObject({ used: 0, reserved: 0 });
    // The old life's task id and callback URL reach nothing, with a token of the new life.
    const notFound = await getTask(t, oldTask);
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as any).error.code).toBe("task_not_found");
    const callback = await gw(oldCallback.pathname, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "completed" }),
    });
    expect(callback.status).toBe(404);
    const ledger = (await (await admin(`/admin/tenants/${t.id}/usage`)).json()) as { tasks: unknown[] };
    expect(ledger.tasks).toEqual([]);
    const deliveries = (await (await admin(`/admin/tenants/${t.id}/deliveries`)).json()) as {
      data: unknown[];
    };
    expect(deliveries.data).toEqual([]);
    // The new life has an object of its own; the old one stays empty.
    await createdId(await generate(t));
    expect((await objectContents({ id: t.id, incarnation: view.incarnation })).rows.tasks).toBe(1);
    expect((await objectContents(ref)).rows.tasks).toBe(0);
  });

  it("a task created between the object's wipe and the record's removal is wiped too", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant(hsTenant());
    const ref = await refOf(t.id);
    const real = registry(env);
    let raced = "";
    const result = await endIncarnation(
      {
        registry: {
          getTenant: (id) => real.getTenant(id),
          // The race: a request authenticated with the still-present record creates a task right here.
          deleteTenant: async (id, incarnation) => {
            raced = await createdId(await generate(t));
            return real.deleteTenant(id, incarnation);
          },
        },
        object: (tenant) => tenantObject(env, tenant),
        forget: (tenant) => forgetTenant(tenant.auth.issuer),
        wipeBuckets: (id) => wipePrefixes(tenantPrefixes(env, id)),
      },
      t.id,
      false,
    );
    expect(raced).toMatch(/^task-unified-/);
    expect(result).toMatchObject({ ended: true, dropped: 0, late: 1 });
    const contents = await objectContents(ref);
    expect(contents).toEqual(await objectContents(neverUsed()));
    expect((await gw("/v1/usage", bearer(await t.token()))).status).toBe(401);
  });
});
