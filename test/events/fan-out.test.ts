// What a task's streams cost the upstream: a thousand streams on one task in one location ask it no more
// than one stream does (the hub of src/events/hub.ts), and however many streams are open the upstream is
// asked at most once per EVENTS_POLL_MS. The counts are the simulator's own record of task queries.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { streamTimings } from "../../src/events/routes";
import { FINAL_EVENT_ID } from "../../src/events/sse";
import type { Env } from "../../src/env";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { VALID_BODY, gw, startSimulator, withJson } from "../helpers/gateway";
import { eventsEnv, openEvents, type OpenStream } from "./helpers";

const DEFAULT_TIMINGS = { ...streamTimings };
beforeEach(() => {
  Object.assign(streamTimings, { tickMs: 250, checkMs: 250, endReleaseMs: 0 });
});
afterEach(() => {
  Object.assign(streamTimings, DEFAULT_TIMINGS);
});

/** The read limits (1,000 reads per 10 s per tenant) would refuse the thousandth open: not what is measured here. */
function unlimitedReads(base: Env): Env {
  const always = { limit: async () => ({ success: true }) };
  return { ...base, READ_LIMIT_USER: always, READ_LIMIT_TENANT: always } as unknown as Env;
}

async function createTask(t: TenantFixture) {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub: null }), VALID_BODY));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function openMany(n: number, token: string, id: string, env: Env): Promise<OpenStream[]> {
  const out: OpenStream[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => openEvents(token, id, { env }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

describe("a task's streams in one location share its upstream queries", () => {
  it("1,000 streams on one task make as many upstream queries as 1 stream", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant(hsTenant({ quotas: { max_event_streams: 2_000 } }));
    const token = await t.token({ sub: null });
    const one = await createTask(t);
    const many = await createTask(t);
    const [oneUp, manyUp] = sim.tasks().map((task) => task.id);
    const queries = (upstreamId: string) =>
      sim.requests.filter((r) => r.method === "GET" && r.path === `/v1/tasks/${upstreamId}`).length;
    const env = unlimitedReads(eventsEnv()); // EVENTS_POLL_MS: 10 minutes

    const single = await openMany(1, token, one, env);
    const crowd = await openMany(1_000, token, many, env);
    expect(crowd.every((s) => s.res.status === 200)).toBe(true);
    const firsts = await Promise.all([...single, ...crowd].map((s) => s.events.nextEvent(20_000)));
    expect(firsts.every((e) => e?.id === "1000")).toBe(true);
    expect(queries(manyUp!)).toBe(queries(oneUp!));

    await clock.advance(10_000); // both end; the callbacks reach the gateway
    const finals = await Promise.all([...single, ...crowd].map((s) => s.events.nextEvent(20_000)));
    expect(finals.every((e) => e?.event === "completed" && e.id === String(FINAL_EVENT_ID))).toBe(true);
    expect(queries(manyUp!)).toBe(queries(oneUp!));
    // One look when the first stream opened, one confirmation by the callback ingress.
    expect(queries(manyUp!)).toBe(2);
    await Promise.all([...single, ...crowd].map((s) => s.settled()));
  }, 120_000);

  it("asks the upstream at most once per EVENTS_POLL_MS, however many streams are open", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const token = await t.token({ sub: null });
    const id = await createTask(t);
    const upstreamId = sim.tasks()[0]!.id;
    const queries = () =>
      sim.requests.filter((r) => r.method === "GET" && r.path === `/v1/tasks/${upstreamId}`).length;
    Object.assign(streamTimings, { tickMs: 20, checkMs: 20 });
    const env = eventsEnv({ EVENTS_POLL_MS: "200" });

    const started = Date.now();
    const streams = await openMany(10, token, id, env);
    await Promise.all(streams.map((s) => s.events.nextEvent()));
    await new Promise((r) => setTimeout(r, 1_000));
    await clock.advance(10_000);
    const finals = await Promise.all(streams.map((s) => s.events.nextEvent()));
    expect(finals.every((e) => e?.event === "completed")).toBe(true);
    const elapsed = Date.now() - started;
    expect(queries()).toBeGreaterThanOrEqual(3); // it did poll while the task ran
    expect(queries()).toBeLessThanOrEqual(Math.floor(elapsed / 200) + 1);
  });
});
