// An idle tenant costs nothing: there is no Cron and no fan-out over tenants, so thousands of registered
// tenants with no task in flight never have their Durable Object woken (most are never even created), while
// a tenant whose task lost its callback is still settled — by its own object's alarm, and by nothing else.
import { env } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_SWEEP_MIN_AGE_S } from "../../src/config/constants";
import worker from "../../src/index";
import { type Tenant } from "../../src/tenants/schema";
import { tenantKey, tenantMetadata } from "../../src/tenants/store";
import { age, armedAlarm, runAlarm } from "../helpers/alarm";
import { admin, startSimulator } from "../helpers/gateway";
import { createdId, generate, quotaTenant, usage } from "../quota/helpers";

const IDLE_TENANTS = 2_000;

/** Registers a tenant the cheap way: its KV record and listing metadata, as the Registry writes them. */
async function registerIdle(id: string): Promise<void> {
  const now = new Date().toISOString();
  const record: Tenant = {
    id,
    name: `Idle ${id}`,
    status: "active",
    auth: { issuer: `https://id.${id}.example/`, audience: "reelgate", hs256_secret: "s".repeat(32) },
    webhook: { secret: `whsec_${btoa("x".repeat(24))}` },
    created_at: now,
    updated_at: now,
  };
  await env.KV.put(tenantKey(id), JSON.stringify(record), { metadata: tenantMetadata(record) });
}

async function createdObjects(): Promise<Set<string>> {
  return new Set((await listDurableObjectIds(env.TENANT_STATE)).map((id) => id.toString()));
}

describe("idle tenants cost nothing", () => {
  it(`${IDLE_TENANTS} registered tenants with nothing in flight: no object is woken; a lost callback is still settled by its own object`, async () => {
    const ids = Array.from(
      { length: IDLE_TENANTS },
      (_, i) => `idle-${i}-${crypto.randomUUID().slice(0, 6)}`,
    );
    for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map(registerIdle));
    // They are tenants like any other: the admin API lists them.
    const page = (await (await admin("/admin/tenants?limit=1000")).json()) as { data: unknown[] };
    expect(page.data).toHaveLength(1000);

    // One busy tenant among them, whose task's callback is lost.
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const busy = await quotaTenant({ max_concurrent_tasks: 1 });
    await createdId(await generate(busy));
    await clock.advance(6_000);

    // Nothing could wake the idle objects on a schedule: the Worker has no `scheduled` handler (so no Cron
    // Trigger has anything to run), and no idle tenant's object was ever created.
    expect("scheduled" in worker).toBe(false);
    const idleObjects = ids.map((id) => env.TENANT_STATE.idFromName(id).toString());
    let created = await createdObjects();
    expect(created.has(env.TENANT_STATE.idFromName(busy.id).toString())).toBe(true);
    expect(idleObjects.filter((id) => created.has(id))).toEqual([]);

    // Time passes for the busy tenant: its own alarm asks the upstream and settles the task.
    await age(busy.id, DEFAULT_SWEEP_MIN_AGE_S * 1000 + 1_000);
    expect(await runAlarm(busy.id)).toBe(true);
    expect((await usage(busy, null)).tenant.concurrent_tasks).toMatchObject({ active: 0 });
    expect((await generate(busy)).status).toBe(200);

    // Still not one idle object created; and one that is instantiated on purpose has no alarm armed.
    created = await createdObjects();
    expect(idleObjects.filter((id) => created.has(id))).toEqual([]);
    for (const id of ids.slice(0, 5)) expect(await armedAlarm(id)).toBeNull();
  }, 60_000);
});
