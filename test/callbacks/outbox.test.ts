// The outbox makes an ended task's event durable before anything else can fail: when the queue refuses it,
// the row stays, the alarm is re-armed with a backoff, and the event goes out once the queue is back. A
// queue that takes the message and then loses it (the local runtime killed with it inside: `npm run chaos`)
// loses nothing either: the row stays, leased, until the consumer records the event's last attempt.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { expect, it, vi } from "vitest";
import { OUTBOX_LEASE_GRACE_MS } from "../../src/config/constants";
import type { DeliveryEntry } from "../../src/callbacks/delivery-log";
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
  sends: number;
  next_at: number;
  [k: string]: SqlStorageValue;
}

/** The outbox's task-ended rows (the operator's `usage.settled` for the same task shares the outbox). */
const outboxRows = (stub: DurableObjectStub<TenantState>) =>
  runInDurableObject(stub, (_i, state) =>
    state.storage.sql
      .exec<OutboxRow>("SELECT * FROM webhook_outbox WHERE json_extract(message, '$.type') IS NULL")
      .toArray(),
  );

/** Task-ended messages only, of those a queue was handed. */
const taskEnds = (messages: unknown[]) => messages.filter((m) => (m as { type?: string }).type === undefined);

/** A queue that takes every message and then loses it, as a runtime killed with messages inside does. */
function lossyQueue(sent: unknown[]): Pick<Queue, "send"> {
  return {
    send: async (body: unknown) => {
      sent.push(body);
      return {} as QueueSendResponse; // what it says it kept is never read
    },
  };
}

/** A lease with the test config's WEBHOOK_TIMEOUT_MS. */
const LEASE_MS = Number(env.WEBHOOK_TIMEOUT_MS) + OUTBOX_LEASE_GRACE_MS;

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
  await eventually(() => expect(taskEnds(attempts)).toHaveLength(1));
  const rows = await outboxRows(stub);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ event_id: expect.stringMatching(/^msg_/), send_failures: 1 });
  expect(rows[0]!.next_at).toBeGreaterThanOrEqual(before + 5_000);
  const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
  // Re-armed for the retry (the task's usage.settled, refused the same way, is due at about the same time).
  expect(Math.abs(alarm! - rows[0]!.next_at)).toBeLessThan(1_000);
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
  // The row goes once the consumer has recorded the delivery.
  await eventually(async () => expect(await outboxRows(stub)).toEqual([]));
});

it("sends an event again when the queue took it and lost it, until the consumer records its delivery", async () => {
  const { clock } = startSimulator();
  const t = await webhookTenant();
  const hooks = receiver();
  const id = await createTask(t);
  const stub = await objectOf(t.id);
  const lost: unknown[] = [];
  await runInDurableObject(stub, (instance: TenantState) => {
    outboxOf(instance).queue = lossyQueue(lost);
  });
  const warn = vi.spyOn(console, "warn");

  const before = Date.now();
  await clock.advance(6_000); // the task ends; the alarm sends its event; the queue loses it
  await eventually(() => expect(taskEnds(lost)).toHaveLength(1));
  let [row] = await outboxRows(stub);
  expect(row).toMatchObject({ event_id: expect.stringMatching(/^msg_/), sends: 1, send_failures: 0 });
  expect(row!.next_at).toBeGreaterThanOrEqual(before + LEASE_MS); // leased, not deleted
  const armed = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
  expect(Math.abs(armed! - row!.next_at)).toBeLessThan(1_000);

  // The lease runs out with no record of an attempt: sent again, and lost again; the next lease is doubled.
  await runInDurableObject(stub, (_i, state) =>
    state.storage.sql.exec("UPDATE webhook_outbox SET next_at = 0"),
  );
  const second = Date.now();
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  expect(taskEnds(lost)).toHaveLength(2);
  expect(taskEnds(lost)[1]).toEqual(taskEnds(lost)[0]); // the same message: the same webhook-id
  [row] = await outboxRows(stub);
  expect(row).toMatchObject({ sends: 2 });
  expect(row!.next_at).toBeGreaterThanOrEqual(second + 2 * LEASE_MS);
  expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringContaining('"outbox_resent"'));
  expect(hooks).toEqual([]);

  // A queue that keeps what it takes: the third send is delivered, and its record settles the event.
  await runInDurableObject(stub, (instance: TenantState, state) => {
    outboxOf(instance).queue = env.WEBHOOKS;
    state.storage.sql.exec("UPDATE webhook_outbox SET next_at = 0");
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  await eventually(() => expect(hooks).toHaveLength(1));
  expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({ id });
  expect(hooks[0]!.headers["webhook-id"]).toBe(row!.event_id);
  await eventually(async () => expect(await outboxRows(stub)).toEqual([]));
});

it("keeps a sent event past each scheduled retry the consumer records, and drops it at the last attempt", async () => {
  const { clock } = startSimulator();
  const t = await webhookTenant();
  receiver();
  await createTask(t);
  const stub = await objectOf(t.id);
  await runInDurableObject(stub, (instance: TenantState) => {
    outboxOf(instance).queue = lossyQueue([]);
  });
  await clock.advance(6_000);
  await eventually(async () => expect(await outboxRows(stub)).toMatchObject([{ sends: 1 }]));
  const [row] = await outboxRows(stub);
  const attempt = (over: Partial<DeliveryEntry>): DeliveryEntry => ({
    eventId: row!.event_id,
    taskId: "task-unified-x",
    attempt: 1,
    at: Date.now(),
    url: "https://hooks.acme.example/reelgate",
    statusCode: 500,
    latencyMs: 3,
    outcome: "retrying",
    error: "HTTP 500",
    nextAttemptAt: Date.now() + 7_200_000,
    redelivery: false,
    ...over,
  });

  // A retry two hours out: the row waits for it (and a lease after it), not for the first lease.
  const retry = attempt({});
  await stub.recordDelivery(retry);
  expect((await outboxRows(stub))[0]!.next_at).toBe(retry.nextAttemptAt! + LEASE_MS);
  // The last attempt (here: delivered) settles the event.
  await stub.recordDelivery(
    attempt({ attempt: 2, statusCode: 204, outcome: "delivered", nextAttemptAt: null }),
  );
  expect(await outboxRows(stub)).toEqual([]);
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
