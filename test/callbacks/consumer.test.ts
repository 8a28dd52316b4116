// The WEBHOOKS and dead-letter consumers, driven with createMessageBatch / getQueueResult: what is acked,
// what is retried and with which delay, what is recorded, and that nothing is sent where it must not be.
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { WebhookMessage } from "../../src/callbacks/message";
import worker from "../../src/index";
import { callsTo, route } from "../helpers/outbound";
import { objectOf } from "../helpers/objects";
import { HOOK_HOST, HOOK_URL, deliveries, receiver, webhookTenant } from "./helpers";

const SCHEDULE = "5,300,1800";

function message(
  tenant: { id: string; incarnation: string } | string,
  over: Partial<WebhookMessage> = {},
): WebhookMessage {
  const { id: tenantId, incarnation } =
    typeof tenant === "string" ? { id: tenant, incarnation: "unknownlife0" } : tenant;
  const taskId = `task-unified-1767225600-${crypto.randomUUID().replace(/-/g, "").slice(0, 29)}`;
  return {
    v: 1,
    tenant_id: tenantId,
    incarnation,
    event_id: `msg_${taskId.slice("task-unified-".length)}`,
    task_id: taskId,
    callback_url: null,
    payload: {
      id: taskId,
      object: "video.generation.task",
      status: "completed",
      results: ["https://x.example/v.mp4"],
    },
    ended_at: Date.now(),
    redelivery: false,
    ...over,
  };
}

/**
 * Runs the Worker's queue handler on one batch; `vars` override configuration for this run only. The
 * plugin's getQueueResult drops the delays passed to retry()/retryAll(), so they are captured here.
 */
async function run(
  queue: string,
  bodies: unknown[],
  opts: { attempts?: number; vars?: Record<string, string> } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  const delays: Record<string, number | undefined> = {};
  for (const msg of batch.messages) {
    const retry = msg.retry.bind(msg);
    msg.retry = (options?: QueueRetryOptions) => {
      delays[msg.id] = options?.delaySeconds;
      retry(options);
    };
  }
  let batchDelay: number | undefined;
  const retryAll = batch.retryAll.bind(batch);
  batch.retryAll = (options?: QueueRetryOptions) => {
    batchDelay = options?.delaySeconds;
    retryAll(options);
  };
  const ctx = createExecutionContext();
  const testEnv = { ...env, WEBHOOK_RETRY_SCHEDULE: SCHEDULE, ...opts.vars } as typeof env;
  await worker.queue(batch as MessageBatch<unknown>, testEnv);
  const result = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays[r.msgId] })),
    retryBatch: { ...result.retryBatch, delaySeconds: batchDelay },
  };
}

const deliver = (bodies: unknown[], opts?: Parameters<typeof run>[2]) =>
  run("reelgate-webhooks", bodies, opts);

describe("WEBHOOKS consumer", () => {
  it("acks a delivered event and records the attempt", async () => {
    const t = await webhookTenant();
    const hooks = receiver();
    const m = message(t);
    const result = await deliver([m]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(hooks).toHaveLength(1);
    expect(new Webhook(t.webhookSecret).verify(hooks[0]!.body, hooks[0]!.headers)).toEqual(m.payload);
    expect(hooks[0]!.headers["webhook-id"]).toBe(m.event_id);
    const [record] = await deliveries(t.id);
    expect(record).toMatchObject({
      event_id: m.event_id,
      attempt: 1,
      status_code: 200,
      outcome: "delivered",
    });
  });

  it.each([500, 502, 503, 408, 429])("retries HTTP %i per the schedule, with jitter", async (status) => {
    const t = await webhookTenant();
    receiver(HOOK_HOST, [status]);
    const result = await deliver([message(t)], { attempts: 2 });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    const delay = result.retryMessages[0]!.delaySeconds!;
    expect(delay).toBeGreaterThanOrEqual(240); // 300 s ± 20 %
    expect(delay).toBeLessThanOrEqual(360);
    const [record] = await deliveries(t.id);
    expect(record).toMatchObject({
      attempt: 2,
      status_code: status,
      outcome: "retrying",
      error: `HTTP ${status}`,
    });
    const next = Date.parse(record!.next_attempt_at!) - Date.parse(record!.attempted_at);
    expect(next).toBeGreaterThanOrEqual(239_000);
  });

  it("retries a timeout and a network error", async () => {
    const t = await webhookTenant();
    receiver(HOOK_HOST, ["hang"]);
    const timedOut = await deliver([message(t)], { vars: { WEBHOOK_TIMEOUT_MS: "50" } });
    expect(timedOut.retryMessages.map((r) => r.msgId)).toEqual(["m0"]);
    expect(timedOut.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(timedOut.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(6);

    // An unrouted host fails like a refused connection.
    const unreachable = await deliver([message(t, { callback_url: "https://down.acme.example/hook" })]);
    expect(unreachable.retryMessages.map((r) => r.msgId)).toEqual(["m0"]);
    const records = await deliveries(t.id);
    expect(records.map((r) => [r.outcome, r.error, r.status_code])).toEqual([
      ["retrying", "network error", null],
      ["retrying", "timed out", null],
    ]);
  });

  it.each([400, 401, 403, 404, 410, 422])(
    "acks a permanent failure (HTTP %i) without retrying",
    async (status) => {
      const t = await webhookTenant();
      receiver(HOOK_HOST, [status]);
      const result = await deliver([message(t)]);
      expect(result.explicitAcks).toEqual(["m0"]);
      expect(result.retryMessages).toEqual([]);
      const [record] = await deliveries(t.id);
      expect(record).toMatchObject({ outcome: "failed", status_code: status, next_attempt_at: null });
    },
  );

  it("does not follow redirects: a 3xx is a permanent failure and the Location is never called", async () => {
    const t = await webhookTenant();
    route(
      HOOK_HOST,
      () => new Response(null, { status: 302, headers: { location: "https://internal.acme.example/" } }),
    );
    const result = await deliver([message(t)]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(callsTo("internal.acme.example")).toEqual([]);
    expect((await deliveries(t.id))[0]).toMatchObject({ outcome: "failed", status_code: 302 });
  });

  it("after the last scheduled attempt, retries without ack so the queue dead-letters it", async () => {
    const t = await webhookTenant();
    receiver(HOOK_HOST, [503]);
    const result = await deliver([message(t)], { attempts: 4 }); // schedule has 3 entries: 4 attempts
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(["m0"]);
    const [record] = await deliveries(t.id);
    expect(record).toMatchObject({
      attempt: 4,
      outcome: "failed",
      error: "HTTP 503; retries exhausted",
      next_attempt_at: null,
    });
  });

  it("re-checks the destination at delivery time: internal or plain-http URLs are refused, never called", async () => {
    const t = await webhookTenant();
    const bad = [
      "https://10.0.0.8/hook",
      "http://hooks.acme.example/hook",
      "https://127.0.0.1/x",
      "https://[::1]/x",
    ];
    const result = await deliver(bad.map((url) => message(t, { callback_url: url })));
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(callsTo()).toEqual([]);
    const records = await deliveries(t.id);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(r.outcome).toBe("failed");
      expect(r.error).toMatch(/^destination refused: /);
    }
  });

  it("prefers the task's own callback_url over the tenant's webhook", async () => {
    const t = await webhookTenant();
    const tenantHooks = receiver();
    const taskHooks = receiver("app.acme.example");
    await deliver([message(t, { callback_url: "https://app.acme.example/done" })]);
    expect(tenantHooks).toHaveLength(0);
    expect(taskHooks).toHaveLength(1);
    expect(new Webhook(t.webhookSecret).verify(taskHooks[0]!.body, taskHooks[0]!.headers)).toBeTruthy();
  });

  it("acks without sending when there is no destination, the tenant is gone, or the message is unreadable", async () => {
    const noHook = await webhookTenant(null);
    const result = await deliver([
      message(noHook),
      message("tenant-that-does-not-exist"),
      { v: 2, nonsense: true },
      "not even an object",
    ]);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(result.retryMessages).toEqual([]);
    expect(callsTo()).toEqual([]);
    expect(await deliveries(noHook.id)).toEqual([]);
  });

  it("settles the outbox row of an event that has no destination (nothing to record, nothing to send again)", async () => {
    const noHook = await webhookTenant(null);
    const m = message(noHook);
    const stub = await objectOf(noHook.id);
    const rows = () =>
      runInDurableObject(
        stub,
        (_o, state: DurableObjectState) =>
          state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n,
      );
    await runInDurableObject(stub, (_o, state: DurableObjectState) => {
      state.storage.sql.exec(
        `INSERT INTO webhook_outbox (event_id, message, created_at, next_at, sends) VALUES (?, ?, ?, ?, 1)`,
        m.event_id,
        JSON.stringify(m),
        Date.now(),
        Date.now() + 60_000,
      );
    });
    expect(await rows()).toBe(1);
    expect((await deliver([m])).explicitAcks).toEqual(["m0"]);
    expect(await rows()).toBe(0);
  });

  it("handles each message of a batch on its own", async () => {
    const t = await webhookTenant();
    receiver(HOOK_HOST, [200]);
    receiver("flaky.acme.example", [503]);
    receiver("gone.acme.example", [410]);
    const result = await deliver([
      message(t),
      message(t, { callback_url: "https://flaky.acme.example/h" }),
      message(t, { callback_url: "https://gone.acme.example/h" }),
    ]);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m2"]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(["m1"]);
  });

  it("retries every message while the gateway is misconfigured", async () => {
    const t = await webhookTenant();
    receiver();
    const result = await deliver([message(t)], { vars: { WEBHOOK_RETRY_SCHEDULE: "5,soon" } });
    expect(result.retryBatch).toMatchObject({ retry: true, delaySeconds: 60 });
    expect(result.explicitAcks).toEqual([]);
    expect(callsTo()).toEqual([]);
  });
});

describe("dead-letter consumer", () => {
  it("records the dead letter and acks it", async () => {
    const t = await webhookTenant();
    const m = message(t);
    const result = await run("reelgate-webhooks-dlq", [m]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(callsTo()).toEqual([]);
    const [record] = await deliveries(t.id);
    expect(record).toMatchObject({
      event_id: m.event_id,
      task_id: m.task_id,
      attempt: null,
      outcome: "dead_lettered",
      // The task had no callback_url of its own: the tenant's webhook.url was where it could not go.
      url: HOOK_URL,
    });
  });

  it("records the task's own callback_url when that was the destination", async () => {
    const t = await webhookTenant();
    await run("reelgate-webhooks-dlq", [message(t, { callback_url: "https://app.acme.example/done" })]);
    expect((await deliveries(t.id))[0]).toMatchObject({
      outcome: "dead_lettered",
      url: "https://app.acme.example/done",
    });
  });

  it("acks an unreadable dead letter (nothing could ever be done with it)", async () => {
    const result = await run("reelgate-webhooks-dlq", [{ what: "ever" }]);
    expect(result.explicitAcks).toEqual(["m0"]);
  });
});

it("retries a batch from a queue it does not know, rather than dropping it", async () => {
  const result = await run("someone-elses-queue", [message("acme")]);
  expect(result.retryBatch.retry).toBe(true);
  expect(result.explicitAcks).toEqual([]);
});

it("signs only what it sends: the receiver sees the signature over the exact body", async () => {
  const t = await webhookTenant({ url: HOOK_URL });
  const hooks = receiver();
  await deliver([message(t)]);
  const { body, headers } = hooks[0]!;
  expect(() => new Webhook(t.webhookSecret).verify(body.replace("completed", "failed"), headers)).toThrow();
});
