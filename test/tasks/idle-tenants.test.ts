// An idle tenant costs nothing: there is no Cron and no fan-out over tenants, so thousands of registered
// tenants with no task in flight never have their Durable Object woken (most are never even created), while
// a tenant whose task lost its callback is still settled — by its own object's alarm, and by nothing else.
import { env } from "cloudflare:workers";
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_SWEEP_MIN_AGE_S } from "../../src/config/constants";
import worker from "../../src/index";
import { type Tenant } from "../../src/tenants/schema";
import { objectName } from "../../src/state/client";
import { getTenant, tenantKey, tenantMetadata } from "../../src/tenants/lookup";
import { age, armedAlarm, runAlarm } from "../helpers/alarm";
import { admin, startSimulator } from "../helpers/gateway";
import { createdId, generate, quotaTenant, usage } from "../quota/helpers";

const IDLE_TENANTS = 2_000;

const INCARNATION = "idleidleidleidle";

function idleRecord(id: string): Tenant {
  const now = new Date().toISOString();
  return {
    id,
    incarnation: INCARNATION,
    version: 1,
    name: `Idle ${id}`,
    status: "active",
    auth: { issuer: `https://id.${id}.example/`, audience: "reelgate", hs256_secret: "s".repeat(32) },
    webhook: { secret: `whsec_${btoa("x".repeat(24))}` },
    created_at: now,
    updated_at: now,
  };
}

/**
 * Registers tenants the cheap way: their rows in the Registry's SQLite (one batch, as its own writes store
 * them) and their KV replicas, without an admin request each.
 */
async function registerIdle(ids: string[]): Promise<void> {
  const records = ids.map(idleRecord);
  await runInDurableObject(
    env.REGISTRY.get(env.REGISTRY.idFromName("registry")),
    (_o, state: DurableObjectState) => {
      for (const r of records) {
        state.storage.sql.exec(
          "INSERT INTO tenants (id, incarnation, version, name, status, issuer, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
          r.id,
          r.incarnation,
          r.version,
          r.name,
          r.status,
          r.auth.issuer,
          JSON.stringify(r),
        );
        state.storage.sql.exec("INSERT INTO issuers (issuer, tenant_id) VALUES (?, ?)", r.auth.issuer, r.id);
        // Already copied to KV (below), so the Registry's replicator has nothing to catch up on.
        state.storage.sql.exec(
          "INSERT INTO replica (id, version, issuer) VALUES (?, ?, ?)",
          r.id,
          r.version,
          r.auth.issuer,
        );
      }
    },
  );
  for (let i = 0; i < records.length; i += 500)
    await Promise.all(
      records
        .slice(i, i + 500)
        .map((r) => env.KV.put(tenantKey(r.id), JSON.stringify(r), { metadata: tenantMetadata(r) })),
    );
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
    await registerIdle(ids);
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
    const idleObjects = ids.map((id) =>
      env.TENANT_STATE.idFromName(objectName({ id, incarnation: INCARNATION })).toString(),
    );
    let created = await createdObjects();
    const busyRef = { id: busy.id, incarnation: (await getTenant(env, busy.id))!.incarnation };
    expect(created.has(env.TENANT_STATE.idFromName(objectName(busyRef)).toString())).toBe(true);
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
