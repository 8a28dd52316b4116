// Credits for the whole life of a task: reserved at creation (the larger of the estimate and the
// upstream's reservation), settled when it ends — the upstream's reported usage for a completion, else the
// estimate; nothing for failures and cancellations — released when the upstream call fails, and settled
// exactly once whatever mix of polls, callbacks and sweeps reports the end.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectOf, rowOf } from "../helpers/objects";
import type { TenantFixture } from "../fixtures/tenants";
import { age, runAlarm } from "../helpers/alarm";
import { UPSTREAM_HOST, VALID_BODY, admin, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { BODY_CREDITS, createdId, generate, getTask, quotaTenant, usage } from "./helpers";

async function ledger(t: TenantFixture): Promise<Record<string, any>> {
  const res = await admin(`/admin/tenants/${t.id}/usage`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

/** Routes the upstream through the simulator, rewriting its JSON answers. */
function rewriteUpstream(
  sim: { fetch(r: Request): Promise<Response> },
  edit: (body: Record<string, any>, req: Request) => void,
) {
  route(UPSTREAM_HOST, async (req) => {
    const res = await sim.fetch(req);
    if (!res.ok) return res;
    const body = (await res.json()) as Record<string, any>;
    edit(body, req);
    return Response.json(body);
  });
}

describe("reserve", () => {
  it("holds the larger of the estimate and the upstream's credits_reserved", async () => {
    const { sim } = startSimulator();
    rewriteUpstream(sim, (body, req) => {
      if (req.method === "POST") body.usage.credits_reserved = 30.5;
    });
    const t = await quotaTenant({ monthly_credits: 100 });
    const res = await generate(t);
    expect(((await res.clone().json()) as any).usage.credits_reserved).toBe(30.5);
    await createdId(res);
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({
      used: 0,
      reserved: 30.5,
      remaining: 69.5,
    });
    const [row] = (await ledger(t)).tasks;
    expect(row).toMatchObject({ estimate: BODY_CREDITS, reserved: 30.5, charged: null, status: "pending" });
  });
});

describe("settle", () => {
  it("completed: charges the upstream's reported usage, and frees the reservation", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    rewriteUpstream(sim, (body, req) => {
      if (req.method === "GET" && body.status === "completed") body.usage = { credits_used: 17.25 };
    });
    const t = await quotaTenant({ monthly_credits: 100 });
    const id = await createdId(await generate(t));
    await clock.advance(6_000);
    expect(((await (await getTask(t, id)).json()) as any).status).toBe("completed");
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({
      used: 17.25,
      reserved: 0,
      remaining: 82.75,
    });
    expect((await usage(t, "user-1")).user.monthly_credits).toMatchObject({ used: 17.25, reserved: 0 });
    const l = await ledger(t);
    expect(l.tasks[0]).toMatchObject({
      task_id: id,
      sub: "user-1",
      status: "completed",
      reserved: BODY_CREDITS,
      charged: 17.25,
    });
    expect(l.totals).toEqual([
      { scope: "tenant", used: 17.25, reserved: 0 },
      { scope: "user", sub: "user-1", used: 17.25, reserved: 0 },
    ]);
  });

  it("completed without a reported usage: charges the estimate", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    rewriteUpstream(sim, (body, req) => {
      if (req.method === "POST") body.usage.credits_reserved = 40;
      if (req.method === "GET") delete body.usage;
    });
    const t = await quotaTenant();
    const id = await createdId(await generate(t));
    await clock.advance(6_000);
    await getTask(t, id);
    expect((await ledger(t)).tasks[0]).toMatchObject({
      reserved: 40,
      charged: BODY_CREDITS,
      status: "completed",
    });
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({ used: BODY_CREDITS, reserved: 0 });
  });

  it.each([
    ["failed", "[sim:fail]"],
    ["cancelled", "[sim:cancel]"],
  ])("%s: releases the reservation to zero (the upstream charges nothing)", async (status, marker) => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant({ max_concurrent_tasks: 1, monthly_credits: 30 });
    const id = await createdId(await generate(t, { body: { ...VALID_BODY, prompt: `a dance ${marker}` } }));
    expect((await generate(t)).status).toBe(429);
    await clock.advance(6_000);
    expect(((await (await getTask(t, id)).json()) as any).status).toBe(status);
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({
      used: 0,
      reserved: 0,
      remaining: 30,
    });
    expect((await ledger(t)).tasks[0]).toMatchObject({ status, reserved: BODY_CREDITS, charged: 0 });
    // Both the slot and the credits are free again.
    expect((await generate(t)).status).toBe(200);
  });
});

describe("release when the upstream call fails before a task id comes back", () => {
  it.each([
    ["a 500", { create: { status: 500, count: 1 } }, 502],
    ["a 429", { create: { status: 429, count: 1 } }, 429],
    ["a timeout", { hangCreate: true }, 504],
  ] as const)(
    "after %s: the slot, the credits and the rate window are untouched",
    async (_l, fault, status) => {
      const { sim } = startSimulator();
      const t = await quotaTenant({ max_concurrent_tasks: 1, requests_per_minute: 1, monthly_credits: 24 });
      sim.inject(fault);
      const failed = await generate(t);
      expect(failed.status).toBe(status);
      sim.inject({ hangCreate: null });
      const u = await usage(t, null);
      expect(u.tenant).toMatchObject({
        requests_per_minute: { used: 0, remaining: 1 },
        concurrent_tasks: { active: 0, remaining: 1 },
        monthly_credits: { used: 0, reserved: 0, remaining: 24 },
      });
      expect((await ledger(t)).tasks[0]).toMatchObject({ status: "aborted", charged: 0 });
      expect((await generate(t)).status).toBe(200);
    },
  );
});

describe("settlement happens once per task", () => {
  it("whatever mix of polls, callbacks and sweeps reports the end", async () => {
    const { sim, clock } = startSimulator();
    const t = await quotaTenant({ monthly_credits: 100 });
    const id = await createdId(await generate(t));
    const upstreamId = sim.tasks()[0]!.id;
    // The end arrives by callback (tick), then by polls, then by direct reports and a sweep.
    await clock.advance(6_000);
    for (let i = 0; i < 3; i++) await getTask(t, id);
    const state = await objectOf(t.id);
    const row = await rowOf(t.id, id);
    const completed = { id: upstreamId, status: "completed" as const, usage: { credits_used: 23.8 } };
    const reports = await Promise.all(
      Array.from({ length: 10 }, () => state.observe(row, completed, Date.now())),
    );
    expect(reports.filter((r) => r?.firstEnd)).toHaveLength(0);
    await age(t.id, 3600_000); // the object's own alarm sweeps: one more end report, changing nothing
    await runAlarm(t.id);
    // A contradicting late report changes nothing either.
    await state.observe(row, { id: upstreamId, status: "failed" }, Date.now());

    expect(sim.callbacks.filter((c) => c.status === 200).length).toBeGreaterThanOrEqual(1);
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({ used: BODY_CREDITS, reserved: 0 });
    expect((await ledger(t)).tasks[0]).toMatchObject({ status: "completed", charged: BODY_CREDITS });
  });

  it("concurrent end reports: exactly one is the first end", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await quotaTenant();
    const id = await createdId(await generate(t));
    const upstreamId = sim.tasks()[0]!.id;
    const state = await objectOf(t.id);
    const row = await rowOf(t.id, id);
    const reports = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        state.observe(
          row,
          { id: upstreamId, status: "completed", usage: { credits_used: 10 + i } },
          Date.now(),
        ),
      ),
    );
    const first = reports.filter((r) => r?.firstEnd);
    expect(first).toHaveLength(1);
    const charged = first[0]!.record.charged ?? (await state.getTask(row))!.charged;
    expect((await usage(t, null)).tenant.monthly_credits).toMatchObject({ used: charged, reserved: 0 });
    expect(callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET")).toHaveLength(0);
  });
});
