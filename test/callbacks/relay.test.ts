// The whole path through the real Worker and the real (local) queue: the simulator finishes a task and calls
// back, the gateway confirms, records the end and its event in one step, the outbox alarm hands the event to
// the WEBHOOKS queue, and the consumer delivers a Standard Webhooks request the `standardwebhooks` library
// verifies unchanged. Retries and the dead-letter queue run on the test schedule (1 s, 1 s, 1 s).
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { objectOf, rowOf } from "../helpers/objects";
import { age, runAlarm } from "../helpers/alarm";
import { GATEWAY, MEDIA_HOST, UPSTREAM_HOST, admin, startSimulator } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import {
  HOOK_HOST,
  HOOK_URL,
  createTask,
  deliveries,
  eventually,
  getTask,
  receiver,
  webhookTenant,
} from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("callback relay, end to end", () => {
  it("delivers one signed webhook per task end, with the task exactly as GET shows it", async () => {
    const { sim, clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    const id = await createTask(t);

    await clock.advance(6_000); // the simulator completes the task and calls back
    expect(sim.callbacks).toHaveLength(1);
    expect(sim.callbacks[0]).toMatchObject({ status: 200 });
    expect(sim.callbacks[0]!.url.startsWith(`${GATEWAY}/callbacks/upstream/`)).toBe(true);

    await eventually(() => expect(hooks).toHaveLength(1));
    const [hook] = hooks;
    expect(hook!.url).toBe(HOOK_URL);
    expect(hook!.headers["content-type"]).toBe("application/json");
    const verified = new Webhook(t.webhookSecret).verify(hook!.body, hook!.headers);
    expect(verified).toEqual(await getTask(t, id));
    expect(verified).toMatchObject({ id, status: "completed", results: [expect.any(String)] });
    expect(hook!.headers["webhook-id"]).toMatch(/^msg_/);
    expect(hook!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // The upstream's own task id appears nowhere but inside its result URLs.
    expect(JSON.stringify({ ...(verified as object), results: [] })).not.toContain(sim.tasks()[0]!.id);

    const [record] = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(record).toMatchObject({
      event_id: hook!.headers["webhook-id"],
      task_id: id,
      attempt: 1,
      url: HOOK_URL,
      status_code: 200,
      outcome: "delivered",
      error: null,
      redelivery: false,
    });
    expect(record!.latency_ms).toBeGreaterThanOrEqual(0);
    // The upstream was asked to confirm exactly once: create and one confirming query. The test's own poll
    // asked nothing: the ingress kept the task's final view in the location's cache, which answered it.
    expect(callsTo(UPSTREAM_HOST).map((c) => c.method)).toEqual(["POST", "GET"]);
  });

  it("relays a failed task with its error, to the task's own callback_url when it has one", async () => {
    const { clock } = startSimulator();
    // Another host than the webhook's: the tenant lists it.
    const t = await webhookTenant(undefined, { policy: { callback_hosts: ["app.acme.example"] } });
    const tenantHooks = receiver();
    const taskHooks = receiver("app.acme.example");
    const id = await createTask(t, {
      prompt: "x [sim:fail]",
      callback_url: "https://app.acme.example/video-done",
    });
    await clock.advance(10_000);
    await eventually(() => expect(taskHooks).toHaveLength(1));
    expect(taskHooks[0]!.url).toBe("https://app.acme.example/video-done");
    const body = new Webhook(t.webhookSecret).verify(taskHooks[0]!.body, taskHooks[0]!.headers);
    expect(body).toMatchObject({
      id,
      status: "failed",
      error: { code: "content_policy_violation", type: "task_error" },
    });
    expect(tenantHooks).toEqual([]);
  });

  it("retries a receiver that fails, with the same webhook-id, until it recovers", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver(HOOK_HOST, [503, 500, 200]);
    const id = await createTask(t);
    await clock.advance(6_000);
    await eventually(() => expect(hooks).toHaveLength(3));
    const ids = new Set(hooks.map((h) => h.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const h of hooks)
      expect(new Webhook(t.webhookSecret).verify(h.body, h.headers)).toMatchObject({ id });
    const records = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list).toHaveLength(3);
      return list;
    });
    expect(records.map((r) => [r.attempt, r.status_code, r.outcome])).toEqual([
      [3, 200, "delivered"],
      [2, 500, "retrying"],
      [1, 503, "retrying"],
    ]);
    expect(records[2]!.next_attempt_at).not.toBeNull();
    await sleep(1_500);
    expect(hooks).toHaveLength(3); // delivered: no further attempt
  });

  it("stops at a permanent failure", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver(HOOK_HOST, [410]);
    await createTask(t);
    await clock.advance(6_000);
    await eventually(() => expect(hooks).toHaveLength(1));
    await sleep(1_500);
    expect(hooks).toHaveLength(1);
    expect((await deliveries(t.id)).map((r) => [r.status_code, r.outcome])).toEqual([[410, "failed"]]);
  });

  it("dead-letters an event whose every attempt failed; an operator redelivers it once the receiver is back", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver(HOOK_HOST, [500]);
    const id = await createTask(t);
    await clock.advance(6_000);

    // 1 attempt + 3 retries (test schedule), then the dead-letter queue records it.
    const records = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list[0]?.outcome).toBe("dead_lettered");
      return list;
    }, 10_000);
    expect(hooks).toHaveLength(4);
    expect(records.map((r) => [r.attempt, r.outcome])).toEqual([
      [null, "dead_lettered"],
      [4, "failed"],
      [3, "retrying"],
      [2, "retrying"],
      [1, "retrying"],
    ]);
    expect(records[1]!.error).toBe("HTTP 500; retries exhausted");
    // The tenant's webhook.url was the destination: the dead-letter record names it too.
    expect(records.map((r) => r.url)).toEqual(Array(5).fill(HOOK_URL));

    receiver(HOOK_HOST, [200]);
    const res = await admin(`/admin/deliveries/${records[0]!.id}/redeliver`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      delivery_id: records[0]!.id,
      event_id: records[0]!.event_id,
      status: "queued",
    });
    const redelivered = await eventually(async () => {
      const list = await deliveries(t.id);
      expect(list[0]?.outcome).toBe("delivered");
      return list[0]!;
    });
    expect(redelivered).toMatchObject({
      redelivery: true,
      attempt: 1,
      event_id: records[0]!.event_id,
      task_id: id,
    });
    const again = callsTo(HOOK_HOST).at(-1)!;
    expect(again.headers["webhook-id"]).toBe(records[0]!.event_id); // receivers can dedupe
    expect(new Webhook(t.webhookSecret).verify(again.body, again.headers)).toEqual(await getTask(t, id));
  });

  it("signs with both secrets during a rotation, so receivers on either secret verify", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    await createTask(t);
    const rotated = (await (
      await admin(`/admin/tenants/${t.id}/webhook-secret/rotate`, { method: "POST" })
    ).json()) as { webhook: { secret: string } };
    await clock.advance(6_000);
    await eventually(() => expect(hooks).toHaveLength(1));
    const { body, headers } = hooks[0]!;
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(t.webhookSecret).verify(body, headers)).toBeTruthy(); // a receiver not yet rolled over
    expect(new Webhook(rotated.webhook.secret).verify(body, headers)).toBeTruthy(); // one already rolled over
  });

  it("settles a task without a destination and sends nothing", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant(null);
    const id = await createTask(t);
    await clock.advance(6_000);
    expect((await getTask(t, id)).status).toBe("completed");
    // The event left the outbox and the consumer dropped it on purpose.
    const stub = await objectOf(t.id);
    await eventually(async () =>
      expect(await runInDurableObject(stub, (_o, state) => countOutbox(state))).toBe(0),
    );
    await sleep(300);
    // Only the upstream, the gateway itself, the copy of the kept result from the upstream's link, and the
    // operator's usage.settled (the task did settle).
    expect(
      callsTo().filter(
        (c) =>
          ![UPSTREAM_HOST, new URL(GATEWAY).host, MEDIA_HOST, "ops.reelgate.test"].includes(
            new URL(c.url).host,
          ),
      ),
    ).toEqual([]);
    expect(await deliveries(t.id)).toEqual([]);
  });

  /** A task that finished upstream but whose callback was dropped: nothing has been delivered yet. */
  async function taskWithLostCallback() {
    const { sim, clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    const id = await createTask(t);
    sim.inject({ dropCallbacks: true });
    await clock.advance(10_000);
    await sleep(300);
    expect(hooks).toEqual([]);
    return { t, hooks, id };
  }

  it("delivers a task whose callback never came, once a poll sees it end", async () => {
    const { t, hooks, id } = await taskWithLostCallback();
    expect((await getTask(t, id)).status).toBe("completed"); // the poll confirms the end upstream
    await eventually(() => expect(hooks).toHaveLength(1));
    expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({ id });
  });

  it("delivers a task whose callback never came, once its object's alarm sweeps it", async () => {
    const { t, hooks, id } = await taskWithLostCallback();
    // The tenant object's own alarm, run once SWEEP_MIN_AGE_SECONDS (and more) have passed since the task
    // was last heard of: there is no Cron any more.
    await age(t.id, 3_600_000);
    expect(await runAlarm(t.id)).toBe(true);
    await eventually(() => expect(hooks).toHaveLength(1));
    expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({
      id,
      status: "completed",
    });
    expect(hooks[0]!.headers["webhook-id"]).toBe(`msg_${t.incarnation}_${await rowOf(t.id, id)}`);
  });
});

function countOutbox(state: DurableObjectState): number {
  return state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n;
}
