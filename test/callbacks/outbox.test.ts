// The outbox makes an ended task's event durable before anything else can fail: when the queue refuses it,
// the row stays, the alarm is re-armed with a backoff, and the event goes out once the queue is back.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { expect, it } from "vitest";
import type { TenantState } from "../../src/tenant-object/tenant-state";
import { objectOf, rowOf } from "../helpers/objects";
import { startSimulator } from "../helpers/gateway";
import { createTask, eventually, receiver, webhookTenant } from "./helpers";

/** The object's outbox, reached past `private` (test-only access to swap its queue). */
function outboxOf(instance: TenantState): { queue: Pick<Queue, "send"> } {
  return (instance as unknown as { outbox: { queue: Pick<Queue, "send"> } }).outbox;
}

interface OutboxRow {
  event_id: string;
  send_failures: number;
  next_at: number;
  [k: string]: SqlStorageValue;
}

it("keeps the event while the queue is down and sends it when the queue is back", async () => {
  const { clock } = startSimulator();
  const t = await webhookTenant();
  const hooks = receiver();
  const id = await createTask(t);
  const stub = await objectOf(t.id);
  const attempts: unknown[] = [];
  await runInDurableObject(stub, (instance: TenantState) => {
    outboxOf(instance).queue = {
      send: async (body: unknown) => {
        attempts.push(body);
        throw new Error("queue unavailable");
      },
    };
  });

  const before = Date.now();
  await clock.advance(6_000); // the task ends; its event is written with the end
  await eventually(() => expect(attempts).toHaveLength(1));
  const rows = await runInDurableObject(stub, (_i, state) =>
    state.storage.sql.exec<OutboxRow>("SELECT * FROM webhook_outbox").toArray(),
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ event_id: expect.stringMatching(/^msg_/), send_failures: 1 });
  expect(rows[0]!.next_at).toBeGreaterThanOrEqual(before + 5_000);
  const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
  expect(alarm).toBe(rows[0]!.next_at); // re-armed for the retry
  expect(hooks).toEqual([]);

  // The queue is back; the retry comes due.
  await runInDurableObject(stub, (instance: TenantState, state) => {
    outboxOf(instance).queue = env.WEBHOOKS;
    state.storage.sql.exec("UPDATE webhook_outbox SET next_at = 0");
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  await eventually(() => expect(hooks).toHaveLength(1));
  expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({
    id,
    status: "completed",
  });
  expect(hooks[0]!.headers["webhook-id"]).toBe(rows[0]!.event_id);
  const left = await runInDurableObject(
    stub,
    (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n,
  );
  expect(left).toBe(0);
});

it("ends a task only together with its event: when the event cannot be written, the next report ends it", async () => {
  const { sim, clock } = startSimulator();
  const t = await webhookTenant();
  const hooks = receiver();
  const id = await createTask(t);
  const stub = await objectOf(t.id);
  const row = await rowOf(t.id, id);
  await runInDurableObject(stub, (instance: TenantState) => {
    const outbox = instance as unknown as { outbox: { taskEnded: (...args: unknown[]) => void } };
    const original = outbox.outbox.taskEnded.bind(outbox.outbox);
    let failures = 1;
    outbox.outbox.taskEnded = (...args: unknown[]) => {
      if (failures-- > 0) throw new Error("disk full");
      original(...args);
    };
  });

  await clock.advance(6_000); // the callback: ending the task fails with its event
  expect(sim.callbacks.map((c) => c.status)).toEqual([500]);
  expect(await stub.getTask(row)).toMatchObject({ endedAt: null, state: "pending" });

  await clock.advance(1_000); // the upstream's retry
  expect(sim.callbacks.map((c) => c.status)).toEqual([500, 200]);
  expect(await stub.getTask(row)).toMatchObject({ state: "completed", endedAt: expect.any(Number) });
  await eventually(() => expect(hooks).toHaveLength(1));
  expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({ id });
});
