// The hot path's I/O budget (docs/performance.md): once an isolate has seen a tenant, a request reads the
// tenant record and its verification keys from isolate memory — no KV read, no key-server fetch — and its
// only I/O is the Durable Object calls and read-limit checks counted here, exactly (every tally is compared
// with toEqual: an extra call fails). A new read or round trip on the hot path fails this test, on purpose:
// it must be a decision, written down in the docs with its figure.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { TASK_RECORD_FIRST_AFTER_MS, TENANT_CACHE_TTL_MS } from "../../src/config/constants";
import type { Env } from "../../src/env";
import { claimsFor, makeKeyPair, publicJwks, signToken } from "../fixtures/keys";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, admin, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { countingEnv, type Tally } from "./counting";

const KEY_HOST = "keys.perf.example";
const counted = countingEnv(env as Env);

/** One request through the app with the counting env; the tally covers its waitUntil work too. */
async function send(
  path: string,
  token: string,
  body?: object,
): Promise<{ status: number; json: any; ops: Tally }> {
  counted.take();
  const init: RequestInit = body
    ? { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }
    : {};
  const request = new Request(`${GATEWAY}${path}`, init);
  request.headers.set("authorization", `Bearer ${token}`);
  const ctx = createExecutionContext();
  const res = await app.fetch(request, counted.env, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, json: await res.json(), ops: counted.take() };
}

/** A tenant with an ES256 key, inline or published at a key server's `jwks_uri`. */
async function es256Tenant(id: string, source: "inline" | "jwks_uri") {
  const key = await makeKeyPair("ES256");
  const issuer = `https://id.${id}.example/`;
  if (source === "jwks_uri") route(KEY_HOST, () => Response.json(publicJwks(key)));
  const auth =
    source === "inline"
      ? { issuer, audience: "reelgate", jwks: publicJwks(key) }
      : { issuer, audience: "reelgate", jwks_uri: `https://${KEY_HOST}/${id}/jwks.json` };
  const res = await admin(`/admin/tenants/${id}`, { method: "PUT", json: { name: id, auth } });
  expect(res.status).toBe(201);
  const tenant = { auth: { issuer, audience: "reelgate" } } as Parameters<typeof claimsFor>[0];
  return { token: () => signToken(key, claimsFor(tenant)) };
}

const POST_OPS = { "TENANT_STATE.create": 1 };
/** Every read is counted for its user and its tenant (src/http/read-limit.ts): no object call. */
const READ_OPS = { "READ_LIMIT_USER.limit": 1, "READ_LIMIT_TENANT.limit": 1 };
/** A poll happens at the edge: the task id carries what it needs (src/tasks/ids.ts). */
const LIVE_GET_OPS = READ_OPS;
/** The poll that first sees the end tells the object, once, after answering (waitUntil). */
const ENDING_GET_OPS = { ...READ_OPS, "TENANT_STATE.observe": 1 };
/** The upstream's report of a task: the object reads it and, live, confirms it upstream (src/callbacks). */
const CALLBACK_OPS = { "TENANT_STATE.callbackReport": 1 };
/** On a cache miss, a task older than TASK_RECORD_FIRST_AFTER_MS is read from its object first. */
const OLD_GET_OPS = { ...READ_OPS, "TENANT_STATE.getTask": 1 };

afterEach(() => vi.useRealTimers());

describe("storage operations per request, after warm-up", () => {
  it("POST makes one Durable Object call; a warm GET none, and no KV read: one upstream query", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls query the upstream
    const tenant = await es256Tenant("perf-inline", "inline");

    const cold = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    expect(cold.status).toBe(200);
    // The first request of an isolate reads the issuer index and the tenant record once.
    expect(cold.ops).toEqual({ "KV.get issuer:": 1, "KV.get tenant:": 1, ...POST_OPS });

    const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    expect(post.status).toBe(200);
    expect(post.ops).toEqual(POST_OPS);
    expect(callsTo(UPSTREAM_HOST).filter((c) => c.method === "POST")).toHaveLength(2);

    const queries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;
    const before = queries();
    const get = await send(`/v1/tasks/${post.json.id}`, await tenant.token());
    expect(get.status).toBe(200);
    expect(get.ops).toEqual(LIVE_GET_OPS);
    expect(queries()).toBe(before + 1);

    await clock.advance(10_000);
    const ending = await send(`/v1/tasks/${post.json.id}`, await tenant.token());
    expect(ending.json.status).toBe("completed");
    expect(ending.ops).toEqual(ENDING_GET_OPS);
    expect(queries()).toBe(before + 2);
  });

  it("a GET within TASK_POLL_CACHE_MS makes no Durable Object call, no KV read and no upstream query", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls query the upstream
    const tenant = await es256Tenant("perf-poll-cache", "inline");
    const cached = countingEnv({ ...(env as Env), TASK_POLL_CACHE_MS: "5000" });
    const poll = async (id: string) => {
      const request = new Request(`${GATEWAY}/v1/tasks/${id}`, {
        headers: { authorization: `Bearer ${await tenant.token()}` },
      });
      const ctx = createExecutionContext();
      const res = await app.fetch(request, cached.env, ctx);
      await waitOnExecutionContext(ctx);
      return { status: res.status, json: (await res.json()) as any, ops: cached.take() };
    };
    const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    const queries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;
    const first = await poll(post.json.id);
    expect(first.status).toBe(200);
    expect(first.ops).toEqual(LIVE_GET_OPS);
    const before = queries();
    const again = await poll(post.json.id);
    expect(again.status).toBe(200);
    expect(again.ops).toEqual(LIVE_GET_OPS);
    expect(again.json).toEqual(first.json);
    expect(queries()).toBe(before);

    // An ended task's final view is kept: the end is reported once, then the upstream is never asked again.
    await clock.advance(10_000);
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start + 6_000 });
    const ending = await poll(post.json.id);
    expect(ending.status).toBe(200);
    expect(ending.ops).toEqual(ENDING_GET_OPS);
    expect(ending.json.status).toBe("completed");
    vi.useFakeTimers({ toFake: ["Date"], now: start + 16_000 }); // past the live TTL, within the tenant cache
    const later = await poll(post.json.id);
    expect(later.status).toBe(200);
    expect(later.ops).toEqual(LIVE_GET_OPS);
    expect(later.json).toEqual(ending.json);
    expect(queries()).toBe(before + 1);
  });

  it("a loop of GETs on an ended task: one upstream query, then none — from the cache, or from the object's record", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls query the upstream
    const tenant = await es256Tenant("perf-ended-loop", "inline");
    const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    const id = post.json.id as string;
    const queries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;
    await clock.advance(10_000); // completed upstream; nothing has told the gateway yet

    const before = queries();
    const ending = await send(`/v1/tasks/${id}`, await tenant.token());
    expect(ending.json.status).toBe("completed");
    expect(ending.ops).toEqual(ENDING_GET_OPS);
    expect(queries()).toBe(before + 1);
    // The task's final view is the object's snapshot of its end, kept by the location's cache (on even with
    // TASK_POLL_CACHE_MS=0, the tests' setting).
    for (let i = 0; i < 20; i++) {
      const again = await send(`/v1/tasks/${id}`, await tenant.token());
      expect(again.json).toEqual(ending.json);
      expect(again.ops).toEqual(LIVE_GET_OPS);
    }
    expect(queries()).toBe(before + 1);

    // A day later, at a location whose cache does not hold it (evicted here): the object's record answers,
    // once, and the cache again after that. The upstream is not asked, even though it now fails.
    const token = await tenant.token(); // tokens are verified on the real clock, the rest reads the fake one
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 24 * 60 * 60_000 + TASK_RECORD_FIRST_AFTER_MS });
    expect((await send("/v1/models", token)).status).toBe(200); // the tenant record, read again after a day
    expect(await caches.default.delete(`${GATEWAY}/__poll-cache/tasks/${id}`)).toBe(true);
    sim.inject({ query: { status: 500, count: 100 } });
    const old = await send(`/v1/tasks/${id}`, token);
    expect(old.status).toBe(200);
    expect(old.json).toEqual(ending.json);
    expect(old.ops).toEqual(OLD_GET_OPS);
    for (let i = 0; i < 20; i++) {
      const again = await send(`/v1/tasks/${id}`, token);
      expect(again.json).toEqual(ending.json);
      expect(again.ops).toEqual(LIVE_GET_OPS);
    }
    expect(queries()).toBe(before + 1);
  });

  it("a callback from the upstream makes one Durable Object call and, once warm, no KV read", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // the test sends the callbacks itself
    const tenant = await es256Tenant("perf-callback", "inline");
    const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    expect(post.status).toBe(200);
    const url = new URL(sim.tasks()[0]!.request.callback_url!);
    const report = async () => {
      counted.take();
      const request = new Request(`${GATEWAY}${url.pathname}`, {
        method: "POST",
        body: JSON.stringify({ status: "completed" }),
        headers: { "content-type": "application/json" },
      });
      const ctx = createExecutionContext();
      const res = await app.fetch(request, counted.env, ctx);
      await waitOnExecutionContext(ctx);
      return { status: res.status, ops: counted.take() };
    };
    const queries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;

    // A task still running: the object confirms it with the upstream and records what it saw.
    const cold = await report();
    expect(cold.status).toBe(200);
    // The first callback of an isolate for this tenant reads its record once (is this life current?).
    expect(cold.ops).toEqual({ "KV.get tenant:": 1, ...CALLBACK_OPS });
    const before = queries();
    const running = await report();
    expect(running.ops).toEqual(CALLBACK_OPS);
    expect(queries()).toBe(before + 1);

    // The end, then a repeated report of it: still one call, and the upstream is not asked again.
    await clock.advance(10_000);
    const ended = await report();
    expect(ended.ops).toEqual(CALLBACK_OPS);
    const repeated = await report();
    expect(repeated.status).toBe(200);
    expect(repeated.ops).toEqual(CALLBACK_OPS);
    expect(queries()).toBe(before + 2);
  });

  it("a tenant's key set from its jwks_uri is fetched once, then served from memory", async () => {
    startSimulator();
    const tenant = await es256Tenant("perf-remote", "jwks_uri");
    expect((await send("/v1/videos/generations", await tenant.token(), VALID_BODY)).status).toBe(200);
    expect(callsTo(KEY_HOST)).toHaveLength(1);

    for (let i = 0; i < 3; i++) {
      const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
      expect(post.status).toBe(200);
      expect(post.ops).toEqual(POST_OPS);
    }
    expect(callsTo(KEY_HOST)).toHaveLength(1);
  });

  it("an HS256 tenant reads no KV after warm-up either", async () => {
    startSimulator();
    const tenant = await createTenant(hsTenant());
    await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    const post = await send("/v1/videos/generations", await tenant.token(), VALID_BODY);
    expect(post.status).toBe(200);
    expect(post.ops).toEqual(POST_OPS);
  });

  it("staleness is bounded: the tenant record is read again once TENANT_CACHE_TTL_MS has passed", async () => {
    startSimulator();
    const tenant = await createTenant(hsTenant());
    const token = await tenant.token();
    await send("/v1/videos/generations", token, VALID_BODY);
    // Past the cache TTL (the token, minted before, is still valid).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + TENANT_CACHE_TTL_MS + 1_000 });
    const after = await send("/v1/videos/generations", token, VALID_BODY);
    expect(after.status).toBe(200);
    expect(after.ops).toEqual({ "KV.get issuer:": 1, "KV.get tenant:": 1, ...POST_OPS });
    const again = await send("/v1/videos/generations", token, VALID_BODY);
    expect(again.ops).toEqual(POST_OPS);
  });
});
