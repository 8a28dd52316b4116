// The operator's own account, kept by the Registry (src/registry-object/balance.ts), through the real app and
// the simulator: tenant objects report their open reservations, the Registry's alarm reads the EvoLink
// balance at most every UPSTREAM_CREDITS_CHECK_SECONDS, `upstream.credits_low` fires once per crossing (under
// UPSTREAM_CREDITS_ALERT or under the open reservations) and survives a restart, GET /admin/upstream shows it
// all (its answers held to the admin OpenAPI document by test/helpers/gateway.ts), and with no operator URL
// the event is a log line. The Registry's settings are the object's own env, replaced per test.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { handleQueue } from "../../src/callbacks/queue";
import type { WebhookMessage } from "../../src/callbacks/message";
import type { Env } from "../../src/env";
import { UPSTREAM_HOST, admin, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { createdId, generate, getTask, quotaTenant } from "../quota/helpers";

const OPS_HOST = "ops.reelgate.example";
const OPS_URL = `https://${OPS_HOST}/events`;
const OPS_SECRET = `whsec_${btoa("operator-secret-0123456789ab")}`;

type Status = {
  balance: { remaining_credits: number | null; used_credits: number; read_at: string } | null;
  open_reservations: number;
  alert: { below: number | null; low: boolean; since: string | null };
  check_every_seconds: number;
  last_error: { code: string; at: string } | null;
};

const stub = () => env.REGISTRY.get(env.REGISTRY.idFromName("registry"));

/** The Registry's settings for this test: its env, replaced on the running instance. */
/** The operator's webhook on, and an alert level of 100 credits. */
const ALERTING = {
  OPERATOR_WEBHOOK_URL: OPS_URL,
  OPERATOR_WEBHOOK_SECRET: OPS_SECRET,
  UPSTREAM_CREDITS_ALERT: "100",
};

async function configure(vars: Record<string, string>): Promise<void> {
  await runInDurableObject(stub(), (instance) => {
    // No operator webhook unless the test sets one (the suite's config has one for the tenant objects).
    const none = { OPERATOR_WEBHOOK_URL: "", OPERATOR_WEBHOOK_SECRET: "" };
    (instance as unknown as { env: Env }).env = { ...(env as Env), ...none, ...vars } as Env;
  });
}

/** The account as new: no reservations, no read, not low, nothing scheduled, no events. */
async function resetAccount(): Promise<void> {
  await runInDurableObject(stub(), (_o, s: DurableObjectState) => {
    s.storage.sql.exec("DELETE FROM upstream_reservations");
    s.storage.sql.exec(
      `UPDATE upstream_balance SET remaining = NULL, used = NULL, read_at = NULL, error_code = NULL,
         error_at = NULL, low = 0, low_since = NULL, due_at = NULL, active = 0`,
    );
    s.storage.sql.exec("DELETE FROM webhook_events");
    s.storage.sql.exec("DELETE FROM webhook_outbox");
    s.storage.sql.exec("DELETE FROM webhook_deliveries");
  });
}

/** The `upstream.credits_low` events the Registry kept (each one emitted, in order). */
async function lowEvents(): Promise<WebhookMessage[]> {
  return runInDurableObject(stub(), (_o, s: DurableObjectState) =>
    s.storage.sql
      .exec<{ message: string }>("SELECT message FROM webhook_events ORDER BY created_at")
      .toArray()
      .map((r) => JSON.parse(r.message) as WebhookMessage)
      .filter((m) => m.type === "upstream.credits_low"),
  );
}

async function status(refresh = false): Promise<Status> {
  const res = await admin(`/admin/upstream${refresh ? "?refresh=1" : ""}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

const creditReads = () => callsTo(UPSTREAM_HOST).filter((c) => c.url.endsWith("/v1/credits")).length;

/** Moves the scheduled check `ms` into the past (time passing for the balance check). */
async function ageCheck(ms: number): Promise<void> {
  await runInDurableObject(stub(), (_o, s: DurableObjectState) => {
    s.storage.sql.exec("UPDATE upstream_balance SET due_at = due_at - ?, read_at = read_at - ?", ms, ms);
  });
}

beforeEach(async () => {
  await resetAccount();
});
afterEach(() => vi.restoreAllMocks());

describe("upstream.credits_low: once per crossing", () => {
  it("under UPSTREAM_CREDITS_ALERT: fires going down, not again while down, again after it was back up", async () => {
    const { sim } = startSimulator();
    await configure({
      OPERATOR_WEBHOOK_URL: OPS_URL,
      OPERATOR_WEBHOOK_SECRET: OPS_SECRET,
      UPSTREAM_CREDITS_ALERT: "100",
    });
    sim.configureCredits({ balance: 500 });
    const first = await status(true);
    expect(first).toMatchObject({
      balance: { remaining_credits: 500, used_credits: 0 },
      alert: { below: 100, low: false, since: null },
      last_error: null,
    });
    expect(await lowEvents()).toHaveLength(0);

    sim.configureCredits({ balance: 50 });
    const down = await status(true);
    expect(down.alert).toMatchObject({ below: 100, low: true });
    expect(down.alert.since).toBe(down.balance!.read_at);
    const [fired] = await lowEvents();
    expect(fired).toMatchObject({ origin: "registry", audience: "operator", task_id: null });
    expect(fired!.payload).toMatchObject({
      type: "upstream.credits_low",
      data: { remaining: 50, used: 0, open_reservations: 0, alert_below: 100, reason: "below_alert" },
    });

    // Down over several reads: nothing more.
    for (const balance of [40, 30, 99]) {
      sim.configureCredits({ balance });
      expect((await status(true)).alert).toMatchObject({ low: true, since: down.alert.since });
    }
    expect(await lowEvents()).toHaveLength(1);

    sim.configureCredits({ balance: 500 });
    expect((await status(true)).alert).toEqual({ below: 100, low: false, since: null });
    expect(await lowEvents()).toHaveLength(1);

    sim.configureCredits({ balance: 20 });
    expect((await status(true)).alert.low).toBe(true);
    const events = await lowEvents();
    expect(events).toHaveLength(2);
    expect(events[1]!.event_id).not.toBe(events[0]!.event_id);
  });

  it("under the open reservations: tenants' tasks in flight are summed, and their ends bring the sum back to 0", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // the poll below ends the tasks
    await configure({ OPERATOR_WEBHOOK_URL: OPS_URL, OPERATOR_WEBHOOK_SECRET: OPS_SECRET });
    sim.configureCredits({ balance: 1000 });
    const [a, b] = [await quotaTenant(), await quotaTenant()];
    const ids = [await createdId(await generate(a)), await createdId(await generate(b))];
    // Each object reports after its admission (off the request's path).
    await vi.waitFor(async () => expect((await status()).open_reservations).toBeCloseTo(47.6, 6), {
      timeout: 5_000,
      interval: 50,
    });

    sim.configureCredits({ balance: 40 }); // under 47.6 reserved, no alert line configured
    const low = await status(true);
    expect(low.alert).toMatchObject({ below: null, low: true });
    const [fired] = await lowEvents();
    expect(fired!.payload).toMatchObject({
      data: { remaining: 40, open_reservations: 47.6, alert_below: null, reason: "below_reservations" },
    });
    expect((await status(true)).alert.low).toBe(true);
    expect(await lowEvents()).toHaveLength(1);

    sim.configureCredits({ balance: 1000 });
    expect((await status(true)).alert.low).toBe(false);
    sim.configureCredits({ balance: 40 });
    expect((await status(true)).alert.low).toBe(true);
    expect(await lowEvents()).toHaveLength(2);

    // The tasks end: each object reports from its alarm, and the last end leaves nothing reserved.
    await clock.advance(10_000);
    expect((await getTask(a, ids[0]!)).status).toBe(200);
    expect((await getTask(b, ids[1]!)).status).toBe(200);
    await vi.waitFor(async () => expect((await status()).open_reservations).toBe(0), {
      timeout: 5_000,
      interval: 50,
    });
  });

  it("a restarted Registry remembers that the balance is low: no second event", async () => {
    const { sim } = startSimulator();
    const vars = ALERTING;
    await configure(vars);
    sim.configureCredits({ balance: 10 });
    expect((await status(true)).alert.low).toBe(true);
    expect(await lowEvents()).toHaveLength(1);

    // A new instance over the same storage.
    await runInDurableObject(stub(), (_o, s: DurableObjectState) => s.abort("restart")).catch(
      () => undefined,
    );
    await configure(vars);
    expect((await status(true)).alert.low).toBe(true);
    expect(await lowEvents()).toHaveLength(1);
  });

  it("with no OPERATOR_WEBHOOK_URL the event is a structured log line, and nothing is stored", async () => {
    const { sim } = startSimulator();
    await configure({ UPSTREAM_CREDITS_ALERT: "100" });
    const warn = vi.spyOn(console, "warn");
    sim.configureCredits({ balance: 10 });
    expect((await status(true)).alert.low).toBe(true);
    const lines = warn.mock.calls
      .map(([line]) => JSON.parse(String(line)) as Record<string, any>)
      .filter((l) => l.event === "operator_event");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "warn",
      type: "upstream.credits_low",
      data: { remaining: 10, alert_below: 100, reason: "below_alert" },
    });
    expect(await lowEvents()).toHaveLength(0);
  });
});

describe("the balance check's cadence", () => {
  it("reads at most every UPSTREAM_CREDITS_CHECK_SECONDS; never read before, the first read is one interval after the first activity", async () => {
    const { sim } = startSimulator();
    await configure({ UPSTREAM_CREDITS_CHECK_SECONDS: "60" });
    sim.configureCredits({ balance: 1000 });
    const t = await quotaTenant();
    expect((await status()).balance).toBeNull(); // the admin call itself schedules one…
    const due = await runInDurableObject(
      stub(),
      (_o, s: DurableObjectState) =>
        s.storage.sql.exec<{ due_at: number | null }>("SELECT due_at FROM upstream_balance").one().due_at,
    );
    expect(due! - Date.now()).toBeGreaterThan(55_000); // …one interval from now, never read before

    await createdId(await generate(t)); // a reservation report while the check is scheduled
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    expect(creditReads()).toBe(0); // not due yet

    await ageCheck(60_000);
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    expect(creditReads()).toBe(1);
    expect((await status()).balance).toMatchObject({ remaining_credits: 1000 });

    // Read just now: the alarm (re-armed, a task is in flight) does not read again before the interval.
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    expect(creditReads()).toBe(1);
    await ageCheck(60_000);
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    expect(creditReads()).toBe(2);
  });

  it("a failed read keeps the last balance and shows the error; the next good read clears it", async () => {
    const { sim } = startSimulator();
    await configure({});
    sim.configureCredits({ balance: 700 });
    const good = await status(true);
    route(UPSTREAM_HOST, () => new Response("down", { status: 503 }));
    const failed = await status(true);
    expect(failed.balance).toEqual(good.balance);
    expect(failed.last_error).toMatchObject({ code: expect.stringMatching(/^upstream_/) });
    route(UPSTREAM_HOST, (req) => sim.fetch(req));
    expect((await status(true)).last_error).toBeNull();
  });

  it("answers 400 for a refresh that is not a flag", async () => {
    const res = await admin("/admin/upstream?refresh=soon");
    expect(res.status).toBe(400);
  });
});

describe("delivery of the Registry's events", () => {
  it("is signed with OPERATOR_WEBHOOK_SECRET, recorded in the Registry, and redelivered by its delivery id", async () => {
    const { sim } = startSimulator();
    const vars = ALERTING;
    await configure(vars);
    sim.configureCredits({ balance: 5 });
    await status(true);
    const [event] = await lowEvents();
    const received: { headers: Record<string, string>; body: string }[] = [];
    route(OPS_HOST, async (req) => {
      received.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response("ok");
    });
    // The consumer as the queue runs it, with this test's operator settings.
    const acked: string[] = [];
    const batch = {
      queue: "reelgate-webhooks",
      messages: [{ id: "m1", body: event, attempts: 1, ack: () => acked.push("m1"), retry: () => undefined }],
      retryAll: () => undefined,
      ackAll: () => undefined,
    } as unknown as MessageBatch<unknown>;
    await handleQueue(batch, { ...(env as Env), ...vars } as Env);
    expect(acked).toEqual(["m1"]);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers["webhook-id"]).toBe(event!.event_id);
    expect(new Webhook(OPS_SECRET).verify(received[0]!.body, received[0]!.headers)).toMatchObject({
      type: "upstream.credits_low",
    });

    const deliveryId = await runInDurableObject(
      stub(),
      (_o, s: DurableObjectState) =>
        s.storage.sql.exec<{ id: string }>("SELECT id FROM webhook_deliveries").one().id,
    );
    expect(deliveryId).toMatch(/^dlv_[a-z2-7]{24}\._registry$/);
    const listed = await admin("/admin/deliveries");
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: Record<string, unknown>[] }).data).toEqual([
      expect.objectContaining({
        id: deliveryId,
        type: "upstream.credits_low",
        audience: "operator",
        task_id: null,
        outcome: "delivered",
      }),
    ]);
    const res = await admin(`/admin/deliveries/${deliveryId}/redeliver`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ delivery_id: deliveryId, event_id: event!.event_id });
  });
});
