// The operator's events (docs/quotas.md, "The operator's account"): `usage.settled` once per settled task
// with the task's id as webhook-id, so a billing pipeline that deduplicates by webhook-id sees exactly the
// ledger however often an event is delivered; `delivery.dead_lettered` when a tenant's webhook exhausts its
// retries; with no OPERATOR_WEBHOOK_URL, structured log lines instead.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { Outbox } from "../../src/callbacks/outbox";
import { eventMessage } from "../../src/callbacks/message";
import { loadConfig } from "../../src/config/env";
import type { Logger } from "../../src/http/log";
import { objectOf } from "../helpers/objects";
import { admin, startSimulator } from "../helpers/gateway";
import { route } from "../helpers/outbound";
import { createTask, deliveries, eventually, receiver, webhookTenant } from "../callbacks/helpers";

const OPS_HOST = "ops.reelgate.test";
const OPS_SECRET = "whsec_b3BlcmF0b3Itd2ViaG9vay1zZWNyZXQtZm9yLXRlc3Rz";

interface Got {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** The operator's receiver: each event's first attempt fails (so every event is delivered at least twice). */
function flakyOperator(): Got[] {
  const seen = new Set<string>();
  const got: Got[] = [];
  route(OPS_HOST, async (req) => {
    const body = await req.text();
    const headers = Object.fromEntries(req.headers);
    const event = new Webhook(OPS_SECRET).verify(body, headers) as Omit<Got, "id">;
    const id = headers["webhook-id"]!;
    got.push({ id, ...event });
    if (seen.has(id)) return new Response("ok");
    seen.add(id);
    return new Response("try again", { status: 503 });
  });
  return got;
}

describe("usage.settled", () => {
  it("equals the ledger over a run with retries and redeliveries: none missing, none duplicated by webhook-id", async () => {
    const { clock } = startSimulator();
    receiver();
    const got = flakyOperator();
    const t = await webhookTenant(undefined, { quotas: { monthly_credits: 10_000 } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createTask(t, i % 3 === 2 ? { prompt: "x [sim:fail]" } : {}));
    await clock.advance(10_000);
    const settled = () => got.filter((e) => e.type === "usage.settled" && e.data.tenant_id === t.id);
    await eventually(() => expect(new Set(settled().map((e) => e.id)).size).toBe(6), 15_000);

    // An operator redelivers two of them as well.
    const records = await eventually(async () => {
      const list = (await deliveries(t.id, "?audience=operator")).filter((d) => d.outcome === "delivered");
      expect(list.length).toBeGreaterThanOrEqual(6);
      return list;
    });
    expect(records.every((d) => d.type === "usage.settled" && d.audience === "operator")).toBe(true);
    for (const d of records.slice(0, 2))
      expect((await admin(`/admin/deliveries/${d.id}/redeliver`, { method: "POST" })).status).toBe(202);
    await eventually(() => expect(settled().length).toBeGreaterThanOrEqual(6 * 2 + 2), 15_000);

    const ledger = (await (await admin(`/admin/tenants/${t.id}/usage`)).json()) as {
      tasks: { task_id: string; charged: number | null; status: string }[];
    };
    expect(ledger.tasks.map((r) => r.task_id).sort()).toEqual([...ids].sort());
    // Deduplicated by webhook-id, the events are the ledger: one per task, its id and what it cost.
    const byId = new Map(settled().map((e) => [e.id, e.data]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const row of ledger.tasks) {
      const data = byId.get(row.task_id)!;
      expect(data).toMatchObject({ task_id: row.task_id, charged: row.charged, status: row.status });
      // Every copy of one event is the same event.
      for (const copy of settled().filter((e) => e.id === row.task_id)) expect(copy.data).toEqual(data);
    }
    expect(ledger.tasks.filter((r) => r.status === "failed").every((r) => r.charged === 0)).toBe(true);
    // The tenant's own delivery list holds only its own events.
    expect((await deliveries(t.id)).every((d) => d.audience === "tenant" && d.type === "task.ended")).toBe(
      true,
    );
  });
});

describe("delivery.dead_lettered", () => {
  it("tells the operator once when a tenant's event exhausts its retries", async () => {
    const { clock } = startSimulator();
    const hooks = receiver(undefined, [500]);
    const ops = receiver(OPS_HOST);
    const t = await webhookTenant();
    const id = await createTask(t);
    await clock.advance(6_000);
    const dead = () =>
      ops
        .map((r) => ({
          id: r.headers["webhook-id"]!,
          ...(new Webhook(OPS_SECRET).verify(r.body, r.headers) as object),
        }))
        .filter(
          (e) => (e as Got).type === "delivery.dead_lettered" && (e as Got).data.tenant_id === t.id,
        ) as Got[];
    await eventually(() => expect(dead()).toHaveLength(1), 15_000);
    const [event] = dead();
    const record = (await deliveries(t.id)).find((d) => d.outcome === "dead_lettered")!;
    expect(event!.data).toEqual({
      tenant_id: t.id,
      delivery_id: record.id,
      event_id: hooks[0]!.headers["webhook-id"],
      event_type: "task.ended",
      task_id: id,
      url: record.url,
    });
    expect(event!.id).toBe(`msg_dl_${record.id}`);
  });
});

describe("with no operator webhook", () => {
  it("an operator's event is a structured log line and nothing is stored; a tenant's event is stored", async () => {
    const t = await webhookTenant();
    const lines: [string, Record<string, unknown> | undefined][] = [];
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() } as unknown as Logger;
    for (const level of ["info", "warn"] as const)
      (log[level] as ReturnType<typeof vi.fn>).mockImplementation((e: string, f?: Record<string, unknown>) =>
        lines.push([e, f]),
      );
    const ref = { id: t.id, incarnation: t.incarnation };
    const counts = await runInDurableObject(await objectOf(t.id), (_o, state: DurableObjectState) => {
      const outbox = new Outbox(state.storage, env.WEBHOOKS, ref, { armBy: () => {} });
      const exhausted = eventMessage(
        ref,
        { id: "msg_qtest", type: "tenant.quota_exhausted", audience: "operator" },
        { tenant_id: t.id, month: "2026-12", used: 10, limit: 10 },
        Date.now(),
      );
      outbox.emit(exhausted, false, log);
      const count = () =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_events").one().n;
      const before = count();
      outbox.emit({ ...exhausted, event_id: "msg_qtest2", audience: "tenant" as const }, false, log);
      return { before, after: count() };
    });
    expect(counts).toEqual({ before: 0, after: 1 });
    expect(lines).toEqual([
      ["operator_event", expect.objectContaining({ event_id: "msg_qtest", type: "tenant.quota_exhausted" })],
    ]);
    expect(log.warn).toHaveBeenCalledTimes(1); // an alert, not an info line
    expect(loadConfig(env).operatorWebhook?.url).toBe(`https://${OPS_HOST}/events`);
  });
});
