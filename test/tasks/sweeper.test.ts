// The reconciliation sweeper, run as the platform runs it: from the tenant object's own alarm, armed at the
// object's earliest deadline. Time passes by moving the object's task history into the past (test/helpers/
// alarm.ts); the simulator's clock decides what the upstream says. Tasks whose callback never came are
// settled, orphaned `creating` tasks are aborted, lost tasks are ended, young ones are left alone.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  DEFAULT_SWEEP_MIN_AGE_S,
  IDEMPOTENCY_TTL_MS,
  STUCK_CREATING_MARGIN_MS,
  SWEEP_RETRY_MS,
  TASK_RETENTION_MS,
} from "../../src/config/constants";
import { objectOf, rowOf } from "../helpers/objects";
import { TaskTable } from "../../src/tasks/table";
import { age, armedAlarm, runAlarm } from "../helpers/alarm";
import { UPSTREAM_HOST, VALID_BODY, admin, bearer, gw, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import {
  BODY_CREDITS,
  admitAt,
  createdId,
  generate,
  getTask,
  PASS_THROUGH,
  quotaTenant,
  usage,
} from "../quota/helpers";

const MIN_AGE_MS = DEFAULT_SWEEP_MIN_AGE_S * 1000;
/** How long a task may stay `creating`: the test config's UPSTREAM_TIMEOUT_MS plus the margin. */
const ABORT_AFTER_MS = Number(env.UPSTREAM_TIMEOUT_MS) + STUCK_CREATING_MARGIN_MS;
/** Upstream queries about one upstream task. */
const queries = (upstreamId: string) =>
  callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET" && c.url.endsWith(`/v1/tasks/${upstreamId}`))
    .length;

async function ledgerRow(tenantId: string, taskId: string) {
  const body = (await (await admin(`/admin/tenants/${tenantId}/usage`)).json()) as { tasks: any[] };
  return body.tasks.find((t) => t.task_id === taskId);
}

/** Waits until the queue consumer has settled every ended task's event (an event keeps its outbox row until then). */
async function eventsSettled(tenantId: string): Promise<void> {
  const stub = await objectOf(tenantId);
  const pending = () =>
    runInDurableObject(
      stub,
      (_o, state: DurableObjectState) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n,
    );
  await vi.waitFor(async () => expect(await pending()).toBe(0), { timeout: 5_000, interval: 25 });
}

/** Lets `ms` pass for the tenant's tasks, then runs its alarm (which must be armed). */
async function later(tenantId: string, ms: number): Promise<void> {
  await age(tenantId, ms);
  expect(await runAlarm(tenantId)).toBe(true);
}

describe("the reconciliation sweeper, on the tenant object's own alarm", () => {
  it("settles a task whose callback never came, and frees its slot", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ max_concurrent_tasks: 1, monthly_credits: 100 });
    const id = await createdId(await generate(t));
    await clock.advance(6_000);
    expect(sim.callbacks.every((c) => c.error !== undefined || c.status === undefined)).toBe(true);
    expect((await generate(t)).status).toBe(429);

    await later(t.id, MIN_AGE_MS + 1_000);
    expect(queries(sim.tasks()[0]!.id)).toBe(1);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
    expect((await usage(t, null)).tenant).toMatchObject({
      concurrent_tasks: { active: 0 },
      monthly_credits: { used: BODY_CREDITS, reserved: 0 },
    });
    expect((await generate(t)).status).toBe(200);
  });

  it("arms the alarm by the task's deadline, and asks again only after the task has been silent that long", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant();
    const before = Date.now();
    await createdId(await generate(t));
    const upstreamId = sim.tasks()[0]!.id;
    // Armed no later than the `creating` deadline (the earliest while the task was being created).
    const armed = (await armedAlarm(t.id))!;
    expect(armed).toBeGreaterThanOrEqual(before + ABORT_AFTER_MS);
    expect(armed).toBeLessThanOrEqual(Date.now() + ABORT_AFTER_MS);

    expect(await runAlarm(t.id)).toBe(true); // nothing due yet: re-armed by the silence deadline
    expect(queries(upstreamId)).toBe(0);
    const silentAt = (await armedAlarm(t.id))!;
    expect(silentAt).toBeGreaterThanOrEqual(before + MIN_AGE_MS);
    expect(silentAt).toBeLessThanOrEqual(Date.now() + MIN_AGE_MS);

    await later(t.id, 60_000);
    expect(queries(upstreamId)).toBe(0);
    await later(t.id, MIN_AGE_MS); // still pending at the simulator: recorded (heard of now), not ended
    expect(queries(upstreamId)).toBe(1);
    await later(t.id, 60_000);
    expect(queries(upstreamId)).toBe(1);
    await later(t.id, MIN_AGE_MS);
    expect(queries(upstreamId)).toBe(2);
  });

  it("releases a failed task's reservation", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ monthly_credits: 30 });
    const id = await createdId(await generate(t, { body: { ...VALID_BODY, prompt: "x [sim:fail]" } }));
    await clock.advance(6_000);
    await later(t.id, MIN_AGE_MS + 1_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "failed", charged: 0 });
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({ used: 0, reserved: 0 });
  });

  it("ends a task the upstream no longer knows (404) as failed, charging nothing", async () => {
    const { sim } = startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    const id = await createdId(await generate(t));
    sim.reset();
    await later(t.id, MIN_AGE_MS + 1_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "failed", charged: 0 });
    const task = await (await objectOf(t.id)).getTask(await rowOf(t.id, id));
    expect(JSON.parse(task!.snapshot!)).toMatchObject({ status: "failed", error: { code: "task_lost" } });
    expect((await generate(t)).status).toBe(200);
  });

  it("keeps a task in flight when the upstream query fails, and asks again after SWEEP_RETRY_MS", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant();
    const id = await createdId(await generate(t));
    const upstreamId = sim.tasks()[0]!.id;
    let failures = 1;
    route(UPSTREAM_HOST, (req) =>
      req.url.endsWith(upstreamId) && failures-- > 0 ? new Response("oops", { status: 500 }) : sim.fetch(req),
    );
    await clock.advance(6_000);
    await later(t.id, MIN_AGE_MS + 1_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "pending", charged: null });
    // Not a tight loop on a failing upstream: the next run is SWEEP_RETRY_MS away.
    const retryAt = (await armedAlarm(t.id))!;
    expect(retryAt).toBeGreaterThan(Date.now() + SWEEP_RETRY_MS - 5_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + SWEEP_RETRY_MS);
    expect(await runAlarm(t.id)).toBe(true);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
  });

  it("aborts tasks orphaned in `creating` (the request died mid-create), releasing their hold", async () => {
    startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1, monthly_credits: 50 });
    const admitted = await admitAt(t.id, Date.now(), {
      estimate: 40,
      tenant: { max_concurrent_tasks: 1, monthly_credits: 50 },
      key: { key: "orphan", hash: "h" },
    });
    expect(admitted.kind).toBe("admitted");
    expect((await generate(t)).status).toBe(429);
    const state = await objectOf(t.id);
    expect(await runAlarm(t.id)).toBe(true); // not orphaned yet
    expect((await state.usage(null, Date.now())).tenant).toMatchObject({ active: 1 });

    await later(t.id, ABORT_AFTER_MS);
    expect((await state.usage(null, Date.now())).tenant).toMatchObject({ active: 0, reservedUnits: 0 });
    expect(await state.idempotencyWait("user-1", "orphan", Date.now())).toEqual({ kind: "gone" });
    expect((await generate(t)).status).toBe(200);
  });

  it("sweeps each tenant from its own object, independently", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const tenants = await Promise.all([quotaTenant(), quotaTenant(), quotaTenant()]);
    const ids = await Promise.all(tenants.map(async (t) => createdId(await generate(t))));
    await clock.advance(6_000);
    await later(tenants[0]!.id, MIN_AGE_MS + 1_000);
    expect(await ledgerRow(tenants[0]!.id, ids[0]!)).toMatchObject({ status: "completed" });
    expect(await ledgerRow(tenants[1]!.id, ids[1]!)).toMatchObject({ status: "pending" });
    for (const [i, t] of tenants.entries()) {
      if (i > 0) await later(t.id, MIN_AGE_MS + 1_000);
      expect(await ledgerRow(t.id, ids[i]!)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
    }
  });

  it("deletes ended tasks after the retention period, once their end is in the KV ledger; then arms nothing", async () => {
    const { sim, clock } = startSimulator();
    const t = await quotaTenant(undefined, undefined, PASS_THROUGH); // no kept results: the purge is the next deadline
    const id = await createdId(await generate(t));
    await clock.advance(10_000);
    expect((await getTask(t, id)).status).toBe(200); // the poll ends it
    const stub = await objectOf(t.id);
    const row = await rowOf(t.id, id);
    // The end reaches the KV ledger through the object's alarm; run it until it has.
    for (let i = 0; i < 10 && !(await stub.getTask(row))?.kvSyncedAt; i++) await runAlarm(t.id);
    const ended = (await stub.getTask(row))!;
    expect(ended.kvSyncedAt).not.toBeNull();
    await eventsSettled(t.id);
    // Nothing left to do but the purge: the alarm waits for it, TASK_RETENTION_MS after the end.
    for (let i = 0; i < 10 && ((await armedAlarm(t.id)) ?? 0) < ended.endedAt! + TASK_RETENTION_MS; i++)
      await runAlarm(t.id);
    expect(await armedAlarm(t.id)).toBe(ended.endedAt! + TASK_RETENTION_MS);

    await age(t.id, TASK_RETENTION_MS - 60_000, ["ended_at"]);
    expect(await runAlarm(t.id)).toBe(true);
    expect(await stub.getTask(row)).not.toBeNull();
    await age(t.id, 120_000, ["ended_at"]);
    expect(await runAlarm(t.id)).toBe(true);
    expect(await stub.getTask(row)).toBeNull();
    sim.reset(); // by then the upstream has long forgotten it too
    // …and this location's cache, which kept the final view for as long as the record is kept.
    const token = await t.token({ sub: "user-1" }); // verified on the real clock
    vi.useFakeTimers({ toFake: ["Date"], now: ended.endedAt! + TASK_RETENTION_MS + 1_000 });
    try {
      expect((await gw(`/v1/tasks/${id}`, bearer(token))).status).toBe(404);
    } finally {
      vi.useRealTimers();
    }
    // An object with nothing left to sweep arms no alarm.
    expect(await armedAlarm(t.id)).toBeNull();
  });

  it("purges an expired Idempotency-Key record at its expiry, then waits for the task's purge", async () => {
    const { clock } = startSimulator();
    const t = await quotaTenant(undefined, undefined, PASS_THROUGH); // no kept results: the purge is the next deadline
    const id = await createdId(await generate(t, { headers: { "idempotency-key": "once" } }));
    await clock.advance(10_000);
    expect((await getTask(t, id)).status).toBe(200); // ends it
    const stub = await objectOf(t.id);
    for (let i = 0; i < 10 && !(await stub.getTask(await rowOf(t.id, id)))?.kvSyncedAt; i++)
      await runAlarm(t.id);
    const ended = (await stub.getTask(await rowOf(t.id, id)))!;
    const expiresAt = () =>
      runInDurableObject(stub, (_o, state: DurableObjectState) =>
        state.storage.sql
          .exec<{ t: number }>("SELECT expires_at AS t FROM idempotency")
          .toArray()
          .map((r) => r.t),
      );
    const [expiry] = await expiresAt();
    expect(expiry).toBe(ended.createdAt + IDEMPOTENCY_TTL_MS);
    await eventsSettled(t.id);
    for (let i = 0; i < 10 && ((await armedAlarm(t.id)) ?? 0) < expiry!; i++) await runAlarm(t.id);
    expect(await armedAlarm(t.id)).toBe(expiry); // the earliest deadline left: the key's expiry

    await runInDurableObject(stub, (_o, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE idempotency SET expires_at = expires_at - ?", IDEMPOTENCY_TTL_MS);
    });
    expect(await runAlarm(t.id)).toBe(true);
    expect(await expiresAt()).toEqual([]);
    expect(await armedAlarm(t.id)).toBe(ended.endedAt! + TASK_RETENTION_MS);
  });

  it("finds its next deadline from indexes: a few rows read, whatever the number of tasks", async () => {
    const stub = await objectOf(`sweep-index-${crypto.randomUUID().slice(0, 8)}`);
    const reads = await runInDurableObject(stub, (_o, state: DurableObjectState) => {
      const sql = state.storage.sql;
      // 3,000 tasks: a third ended and mirrored, a third in flight, a third still `creating`.
      for (let i = 0; i < 3_000; i++) {
        const kind = i % 3;
        sql.exec(
          `INSERT INTO tasks (id, upstream_id, state, model, created_at, updated_at, ended_at, estimate, reserved,
             kv_synced_at) VALUES (?, ?, ?, 'm', ?, ?, ?, 1, 1, ?)`,
          `t${i}`,
          kind === 2 ? null : `u${i}`,
          kind === 0 ? "completed" : kind === 1 ? "processing" : "creating",
          1_000_000 + i,
          2_000_000 + i,
          kind === 0 ? 3_000_000 + i : null,
          kind === 0 ? 3_000_000 + i : null,
        );
      }
      const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
      const counting = {
        exec: (query: string, ...bindings: unknown[]) => {
          const cursor = sql.exec(query, ...bindings);
          cursors.push(cursor);
          return cursor;
        },
      } as unknown as SqlStorage;
      const store = new TaskTable(counting);
      expect([store.oldestCreating(), store.oldestSilent(), store.oldestPurgeable()]).toEqual([
        1_000_002, 2_000_001, 3_000_000,
      ]);
      return cursors.map((c) => c.rowsRead);
    });
    for (const n of reads) expect(n).toBeLessThanOrEqual(2);
  });
});
