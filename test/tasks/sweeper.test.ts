// The reconciliation sweeper, run as the Cron Trigger runs it (`scheduled` with a chosen scheduled time,
// which is the sweep's clock): tasks whose callback never came are settled from the upstream's answer,
// orphaned `creating` tasks are aborted, lost tasks are ended, and young or recently heard tasks are left.
import { env } from "cloudflare:workers";
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_SWEEP_MIN_AGE_S, TASK_RETENTION_MS } from "../../src/config/constants";
import worker from "../../src/index";
import { objectOf, rowOf } from "../helpers/objects";
import { UPSTREAM_HOST, VALID_BODY, admin, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { BODY_CREDITS, admitAt, createdId, generate, getTask, quotaTenant, usage } from "../quota/helpers";

const MIN_AGE_MS = DEFAULT_SWEEP_MIN_AGE_S * 1000;
/** Upstream queries about one upstream task (the cron visits other tests' tenants too). */
const queries = (upstreamId: string) =>
  callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET" && c.url.endsWith(`/v1/tasks/${upstreamId}`))
    .length;

/** The handler awaits its whole sweep, so it needs no ExecutionContext. */
async function runCron(scheduledTime: number): Promise<void> {
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env);
}

async function ledgerRow(tenantId: string, taskId: string) {
  const body = (await (await admin(`/admin/tenants/${tenantId}/usage`)).json()) as { tasks: any[] };
  return body.tasks.find((t) => t.task_id === taskId);
}

describe("the reconciliation sweeper", () => {
  it("settles a task whose callback never came, and frees its slot", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ max_concurrent_tasks: 1, monthly_credits: 100 });
    const id = await createdId(await generate(t));
    await clock.advance(6_000);
    expect(sim.callbacks.every((c) => c.error !== undefined || c.status === undefined)).toBe(true);
    expect((await generate(t)).status).toBe(429);

    await runCron(Date.now() + MIN_AGE_MS + 1_000);
    expect(queries(sim.tasks()[0]!.id)).toBe(1);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
    expect((await usage(t, null)).tenant).toMatchObject({
      concurrent_tasks: { active: 0 },
      monthly_credits: { used: BODY_CREDITS, reserved: 0 },
    });
    expect((await generate(t)).status).toBe(200);
  });

  it("leaves young tasks alone, and asks again only after a task has been silent for the minimum age", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant();
    await createdId(await generate(t));
    const upstreamId = sim.tasks()[0]!.id;
    const start = Date.now();
    await runCron(start + 60_000);
    expect(queries(upstreamId)).toBe(0);
    await runCron(start + MIN_AGE_MS + 1_000); // still pending at the simulator: recorded, not ended
    expect(queries(upstreamId)).toBe(1);
    await runCron(start + MIN_AGE_MS + 61_000);
    expect(queries(upstreamId)).toBe(1);
    await runCron(start + 2 * MIN_AGE_MS + 2_000);
    expect(queries(upstreamId)).toBe(2);
  });

  it("releases a failed task's reservation", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ monthly_credits: 30 });
    const id = await createdId(await generate(t, { body: { ...VALID_BODY, prompt: "x [sim:fail]" } }));
    await clock.advance(6_000);
    await runCron(Date.now() + MIN_AGE_MS + 1_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "failed", charged: 0 });
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({ used: 0, reserved: 0 });
  });

  it("ends a task the upstream no longer knows (404) as failed, charging nothing", async () => {
    const { sim } = startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    const id = await createdId(await generate(t));
    sim.reset();
    await runCron(Date.now() + MIN_AGE_MS + 1_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "failed", charged: 0 });
    const task = await (await objectOf(t.id)).getTask(await rowOf(t.id, id));
    expect(JSON.parse(task!.snapshot!)).toMatchObject({ status: "failed", error: { code: "task_lost" } });
    expect((await generate(t)).status).toBe(200);
  });

  it("keeps a task in flight when the upstream query fails, and settles it on a later run", async () => {
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
    const at = Date.now() + MIN_AGE_MS + 1_000;
    await runCron(at);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "pending", charged: null });
    await runCron(at + 60_000);
    expect(await ledgerRow(t.id, id)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
  });

  it("aborts tasks orphaned in `creating` (the request died mid-create), releasing their hold", async () => {
    startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1, monthly_credits: 50 });
    const orphanedAt = Date.now() - 5 * 60_000;
    const admitted = await admitAt(t.id, orphanedAt, {
      estimate: 40,
      tenant: { max_concurrent_tasks: 1, monthly_credits: 50 },
      key: { key: "orphan", hash: "h" },
    });
    expect(admitted.kind).toBe("admitted");
    expect((await generate(t)).status).toBe(429);

    await runCron(Date.now());
    const state = await objectOf(t.id);
    expect((await state.usage(null, Date.now())).tenant).toMatchObject({ active: 0, reservedUnits: 0 });
    expect(await state.idempotencyWait("user-1", "orphan", Date.now())).toEqual({ kind: "gone" });
    expect((await generate(t)).status).toBe(200);
  });

  it("visits every tenant", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const tenants = await Promise.all([quotaTenant(), quotaTenant(), quotaTenant()]);
    const ids = await Promise.all(tenants.map(async (t) => createdId(await generate(t))));
    await clock.advance(6_000);
    await runCron(Date.now() + MIN_AGE_MS + 1_000);
    for (const [i, t] of tenants.entries())
      expect(await ledgerRow(t.id, ids[i]!)).toMatchObject({ status: "completed", charged: BODY_CREDITS });
  });

  it("deletes ended tasks after the retention period, once their end is in the KV ledger", async () => {
    const { sim, clock } = startSimulator();
    const t = await quotaTenant();
    const id = await createdId(await generate(t));
    await clock.advance(10_000);
    expect((await getTask(t, id)).status).toBe(200); // the poll ends it
    const stub = await objectOf(t.id);
    const row = await rowOf(t.id, id);
    // The end reaches the KV ledger through the object's alarm; run it until it has.
    for (let i = 0; i < 10 && !(await stub.getTask(row))?.kvSyncedAt; i++) await runDurableObjectAlarm(stub);
    expect((await stub.getTask(row))?.kvSyncedAt).not.toBeNull();

    await runCron(Date.now() + TASK_RETENTION_MS - 60_000);
    expect(await stub.getTask(row)).not.toBeNull();
    await runCron(Date.now() + TASK_RETENTION_MS + 60_000);
    expect(await stub.getTask(row)).toBeNull();
    sim.reset(); // by then the upstream has long forgotten it too
    expect((await getTask(t, id)).status).toBe(404);
  });
});
