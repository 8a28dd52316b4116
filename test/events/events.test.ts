// GET /v1/tasks/{id}/events through the real app and the upstream simulator: the events in order, ids that
// resume without repeats, an end pushed from a callback without another poll, an ended task at once, the
// same caller checks as GET, the heartbeat and the idle close. Streams are read as a client reads them.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FINAL_EVENT_ID } from "../../src/events/sse";
import { streamTimings } from "../../src/events/routes";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { VALID_BODY, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { countingEnv } from "../perf/counting";
import { dataOf, eventsEnv, openEvents } from "./helpers";

const DEFAULT_TIMINGS = { ...streamTimings };

beforeEach(() => {
  // Quicker than production (500 ms ticks, 1 s checks), so a test runs in a second or two.
  Object.assign(streamTimings, { tickMs: 20, checkMs: 50, endReleaseMs: 0 });
});
afterEach(() => {
  Object.assign(streamTimings, DEFAULT_TIMINGS);
});

async function createTask(t: TenantFixture, sub: string | null = "user-1", body: object = VALID_BODY) {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), body));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function getBody(t: TenantFixture, id: string, sub: string | null = "user-1") {
  const res = await gw(`/v1/tasks/${id}`, bearer(await t.token({ sub })));
  expect(res.status).toBe(200);
  return res.json();
}

describe("GET /v1/tasks/{id}/events", () => {
  it("sends progress as the task moves, then the final event with GET's body, then closes", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only the stream's own polls see the end
    const t = await createTenant();
    const id = await createTask(t);
    const fast = eventsEnv({ EVENTS_POLL_MS: "30" });
    const { res, events } = await openEvents(await t.token(), id, { env: fast });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");

    const first = await events.nextEvent();
    expect(first).toMatchObject({ event: "progress", id: "1000" });
    expect(dataOf(first)).toEqual({ status: "pending", progress: 0 });

    await clock.advance(2_000); // processing
    const second = await events.nextEvent();
    expect(second?.event).toBe("progress");
    expect(dataOf(second)).toMatchObject({ status: "processing" });
    expect(Number(second?.id)).toBeGreaterThan(2_000);

    await clock.advance(10_000); // completed upstream; no callback
    const rest = (await events.rest()).filter((e) => e.comment === undefined);
    const final = rest.at(-1)!;
    expect(final).toMatchObject({ event: "completed", id: String(FINAL_EVENT_ID) });
    // Every id grows; the last is the final one and nothing follows it (rest() read to the end).
    const ids = [first, second, ...rest].map((e) => Number(e!.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    // Exactly what GET answers for the ended task.
    expect(dataOf(final)).toEqual(await getBody(t, id));
    expect(dataOf(final)).toMatchObject({ id, status: "completed", results: [expect.any(String)] });
  });

  it("names the final event by the end: failed", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t, "user-1", { ...VALID_BODY, prompt: "something [sim:fail]" });
    const { events } = await openEvents(await t.token(), id, { env: eventsEnv({ EVENTS_POLL_MS: "30" }) });
    expect((await events.nextEvent())?.event).toBe("progress");
    await clock.advance(10_000);
    const final = (await events.rest()).filter((e) => e.comment === undefined).at(-1)!;
    expect(final.event).toBe("failed");
    expect(dataOf(final)).toEqual(await getBody(t, id));
    expect(dataOf(final).error).toMatchObject({ type: "task_error" });
  });

  it("resumes after Last-Event-ID without repeating an event", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const id = await createTask(t);
    const fast = eventsEnv({ EVENTS_POLL_MS: "30" });
    const token = await t.token();

    const one = await openEvents(token, id, { env: fast });
    const pending = await one.events.nextEvent();
    expect(pending?.id).toBe("1000");
    await one.events.cancel();

    // Nothing has moved since: a reconnect from 1000 sends no event until something does.
    const two = await openEvents(token, id, { env: fast, lastEventId: "1000" });
    const heard = await two.events.next(300).catch(() => null);
    expect(heard).toBeNull();
    await clock.advance(2_000);
    const moved = await two.events.nextEvent();
    expect(moved?.event).toBe("progress");
    expect(Number(moved?.id)).toBeGreaterThan(1000);
    await two.events.cancel();

    // The end, missed while disconnected, comes once on the next reconnect; the final id ends it for good.
    await clock.advance(10_000);
    const three = await openEvents(token, id, { env: fast, lastEventId: moved!.id });
    const seen = (await three.events.rest()).filter((e) => e.comment === undefined);
    expect(seen.map((e) => e.event)).toEqual(["completed"]);
    const four = await openEvents(token, id, { env: fast, lastEventId: String(FINAL_EVENT_ID) });
    expect(four.res.status).toBe(200);
    expect(await four.events.rest()).toEqual([]);
  });

  it("ignores a Last-Event-ID that is not one of its ids", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const { events } = await openEvents(await t.token(), id, { lastEventId: "abc" });
    expect((await events.nextEvent())?.id).toBe("1000");
    await events.cancel();
  });

  it("sends an ended task's final event at once and closes, without asking the upstream", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    await clock.advance(10_000); // the callback ends it, and puts its final view in this location's cache
    const done = await getBody(t, id);
    const before = sim.requests.length;
    const { events } = await openEvents(await t.token(), id);
    const all = await events.rest();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ event: "completed", id: String(FINAL_EVENT_ID) });
    expect(dataOf(all[0]!)).toEqual(done);
    expect(sim.requests.length).toBe(before);
  });

  it("is the same 404 as GET for another user's or another tenant's task, and takes no slot", async () => {
    startSimulator();
    const t = await createTenant();
    const other = await createTenant();
    const id = await createTask(t, "alice");
    const counted = countingEnv(eventsEnv());
    for (const token of [await t.token({ sub: "bob" }), await other.token({ sub: "alice" })]) {
      const { res } = await openEvents(token, id, { env: counted.env });
      expect(res.status).toBe(404);
      const body = await res.json();
      const get = await gw(`/v1/tasks/${id}`, bearer(token));
      expect(body).toEqual(await get.json());
    }
    expect(Object.keys(counted.take()).filter((op) => op.startsWith("TENANT_STATE"))).toEqual([]);
  });

  it("needs a tenant token", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const res = await gw(`/v1/tasks/${id}/events`);
    expect(res.status).toBe(401);
  });

  it("sends a keep-alive comment while nothing happens", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    Object.assign(streamTimings, { heartbeatMs: 100 });
    const { events } = await openEvents(await t.token(), id);
    expect((await events.next())?.event).toBe("progress");
    expect(await events.next(2_000)).toEqual({ comment: "keep-alive" });
    expect(await events.next(2_000)).toEqual({ comment: "keep-alive" });
    await events.cancel();
  });

  it("closes a stream idle for EVENTS_IDLE_MS with a comment to resume", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const idle = eventsEnv({ EVENTS_IDLE_MS: "300" });
    const started = Date.now();
    const { events, settled } = await openEvents(await t.token(), id, { env: idle });
    expect((await events.next())?.id).toBe("1000");
    const last = await events.next(3_000);
    expect(last?.comment).toMatch(/^idle: closed; reconnect with Last-Event-ID/);
    expect(await events.next()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await settled();
  });

  it("costs no Durable Object call while the task runs: one to open, one at the end, one to close", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const id = await createTask(t);
    const counted = countingEnv(eventsEnv({ EVENTS_POLL_MS: "30" }));
    const { events, settled } = await openEvents(await t.token(), id, { env: counted.env });
    expect((await events.nextEvent())?.id).toBe("1000");
    await clock.advance(2_000);
    expect((await events.nextEvent())?.event).toBe("progress");
    const objectCalls = (tally: Record<string, number>) =>
      Object.fromEntries(Object.entries(tally).filter(([op]) => op.startsWith("TENANT_STATE")));
    expect(objectCalls(counted.take())).toEqual({ "TENANT_STATE.eventStreamOpen": 1 });
    const polls = sim.requests.filter((r) => r.method === "GET").length;
    await new Promise((r) => setTimeout(r, 300)); // several polls while it runs
    expect(sim.requests.filter((r) => r.method === "GET").length).toBeGreaterThan(polls);
    expect(objectCalls(counted.take())).toEqual({});
    await clock.advance(10_000);
    expect((await events.rest()).at(-1)?.event).toBe("completed");
    await settled();
    expect(objectCalls(counted.take())).toEqual({
      "TENANT_STATE.observe": 1,
      "TENANT_STATE.eventStreamClose": 1,
    });
  });
});

describe("the end pushed from a callback", () => {
  it("reaches an open stream within 2 s, with no further upstream query", async () => {
    Object.assign(streamTimings, DEFAULT_TIMINGS); // production's ticks and checks
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const upstreamId = sim.tasks()[0]!.id;
    const queries = () => sim.requests.filter((r) => r.path === `/v1/tasks/${upstreamId}`).length;
    // EVENTS_POLL_MS of 10 minutes: after its first look, the stream will not ask the upstream again.
    const { events } = await openEvents(await t.token(), id);
    expect((await events.nextEvent())?.id).toBe("1000");
    const asked = queries();
    await clock.advance(10_000); // the task ends; the simulator's callback reaches the gateway
    const ended = Date.now();
    expect(sim.callbacks.at(-1)?.status).toBe(200);
    const final = await events.nextEvent(3_000);
    expect(Date.now() - ended).toBeLessThan(2_000);
    expect(final?.event).toBe("completed");
    expect(dataOf(final)).toEqual(await getBody(t, id));
    // The ingress confirmed the end with one query of its own; the stream asked nothing more.
    expect(queries()).toBe(asked + 1);
  });
});

describe("open streams are limited per user and per tenant", () => {
  it("answers 429 event_stream_limit_exceeded beyond them, and frees a slot when a stream closes", async () => {
    startSimulator();
    const t = await createTenant(
      hsTenant({ quotas: { max_event_streams: 3 }, user_quotas: { max_event_streams: 2 } }),
    );
    const alice = await createTask(t, "alice");
    const bob = await createTask(t, "bob");
    const carol = await createTask(t, "carol");
    const open = async (sub: string, id: string) => openEvents(await t.token({ sub }), id);

    const a1 = await open("alice", alice);
    const a2 = await open("alice", alice);
    const a3 = await open("alice", alice);
    expect([a1.res.status, a2.res.status, a3.res.status]).toEqual([200, 200, 429]);
    const refused = (await a3.res.json()) as { error: Record<string, any> };
    expect(refused.error).toMatchObject({
      code: "event_stream_limit_exceeded",
      type: "rate_limit_error",
      details: { scope: "user", max: 2, limit: "event_streams" },
    });
    expect(Number(a3.res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const b1 = await open("bob", bob);
    expect(b1.res.status).toBe(200); // the tenant's third
    const c1 = await open("carol", carol);
    expect(c1.res.status).toBe(429);
    expect(((await c1.res.json()) as any).error.details).toMatchObject({ scope: "tenant", max: 3 });

    // Alice closes one: her slot and the tenant's are free again.
    await a1.events.cancel();
    await a1.settled();
    const a4 = await open("alice", alice);
    expect(a4.res.status).toBe(200);
    expect((await open("carol", carol)).res.status).toBe(429);

    // A stream that ends by itself gives its slot back too.
    for (const s of [a2, a4, b1]) await s.events.cancel();
    for (const s of [a2, a4, b1]) await s.settled();
    expect((await open("carol", carol)).res.status).toBe(200);
  });

  it("gives a slot back a moment after its task's end, and at once when the client leaves", async () => {
    const { clock } = startSimulator();
    Object.assign(streamTimings, { endReleaseMs: 1_000 }); // given back 0.5 to 1 s after the end
    const t = await createTenant(hsTenant({ user_quotas: { max_event_streams: 1 } }));
    const first = await createTask(t, "alice");
    const token = await t.token({ sub: "alice" });
    const s1 = await openEvents(token, first);
    expect((await s1.events.nextEvent())?.id).toBe("1000");
    await clock.advance(10_000); // the callback ends it
    expect((await s1.events.rest()).at(-1)?.event).toBe("completed");
    const second = await createTask(t, "alice");
    expect((await openEvents(token, second)).res.status).toBe(429); // still held, just after the end
    await s1.settled();
    const s2 = await openEvents(token, second);
    expect(s2.res.status).toBe(200);
    await s2.events.cancel(); // the client leaves: given back at once
    await s2.settled();
    const s3 = await openEvents(token, second);
    expect(s3.res.status).toBe(200);
    await s3.events.cancel();
  });

  it("counts a token without sub against the tenant only", async () => {
    startSimulator();
    const t = await createTenant(
      hsTenant({ quotas: { max_event_streams: 2 }, user_quotas: { max_event_streams: 1 } }),
    );
    const id = await createTask(t, null);
    const token = await t.token({ sub: null });
    const s1 = await openEvents(token, id);
    const s2 = await openEvents(token, id);
    const s3 = await openEvents(token, id);
    expect([s1.res.status, s2.res.status, s3.res.status]).toEqual([200, 200, 429]);
    for (const s of [s1, s2]) await s.events.cancel();
  });
});
