// Read limits (src/http/read-limit.ts) through the real app: every tenant GET counts once for its user and
// once for its tenant on the Rate Limiting bindings; over either, 429 rate_limit_exceeded with Retry-After
// and the RateLimit fields, before any object call or upstream query (in EvoLink's files envelope on the
// files API). The real local bindings are held to the figures the 429 announces; strict fakes stand in where
// a test needs a small limit.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { READ_LIMITS } from "../../src/config/constants";
import type { Env } from "../../src/env";
import { createTenant } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { callsTo } from "../helpers/outbound";
import { countingEnv, type Tally } from "../perf/counting";

/** A Rate Limiting binding as strict as the local one: `{ key }` only, counted per key up to `max`. */
class StrictLimiter implements RateLimit {
  readonly keys: string[] = [];
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  async limit(options: RateLimitOptions): Promise<RateLimitOutcome> {
    const extra = Object.keys(options).filter((k) => k !== "key");
    if (extra.length > 0 || typeof options.key !== "string")
      throw new Error(`bad rate limit options: [${extra.join(",")}]`);
    this.keys.push(options.key);
    const used = this.counts.get(options.key) ?? 0;
    if (used >= this.max) return { success: false };
    this.counts.set(options.key, used + 1);
    return { success: true };
  }
}

/** A limiter whose every call fails, as a binding that is down would. */
const brokenLimiter: RateLimit = {
  limit: () => Promise.reject(new Error("rate limiter unavailable")),
};

/** One request through the app over `bindings`, its tally of storage and limiter calls, checked as gw() is. */
async function send(
  path: string,
  init: RequestInit,
  bindings: Partial<Record<keyof Env, unknown>>,
): Promise<{ res: Response; body: any; ops: Tally }> {
  const counted = countingEnv({ ...(env as Env), ...bindings } as Env);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${GATEWAY}${path}`, init), counted.env, ctx);
  await waitOnExecutionContext(ctx);
  await checkAgainstOpenApi(init.method ?? "GET", `${GATEWAY}${path}`, res);
  return { res, body: await res.clone().json(), ops: counted.take() };
}

/**
 * Runs `burst` inside one window of the local limiter, whose windows are aligned to the wall clock: a window
 * that turned mid-burst would reset the count. It starts with at least 60 % of a window ahead, and on a
 * machine so loaded that the burst outlasted it anyway, runs it again (each attempt with its own keys).
 */
async function inOneWindow<T>(periodS: number, burst: (attempt: number) => Promise<T>): Promise<T> {
  const period = periodS * 1000;
  for (let attempt = 0; ; attempt++) {
    const left = period - (Date.now() % period);
    if (left < period * 0.6) await new Promise((resolve) => setTimeout(resolve, left + 50));
    const window = Math.floor(Date.now() / period);
    const out = await burst(attempt);
    if (Math.floor(Date.now() / period) === window) return out;
    if (attempt === 2) throw new Error("three bursts in a row outlasted a window of the limiter");
  }
}

function expectReadRefusal(res: Response, body: any, scope: "user" | "tenant") {
  const { max, periodS } = READ_LIMITS[scope];
  expect(res.status).toBe(429);
  expect(res.headers.get("retry-after")).toBe(String(periodS));
  expect(res.headers.get("ratelimit-policy")).toBe(`"${scope}-reads";q=${max};w=${periodS}`);
  expect(res.headers.get("ratelimit")).toBe(`"${scope}-reads";r=0;t=${periodS}`);
  expect(body.error).toMatchObject({
    code: "rate_limit_exceeded",
    type: "rate_limit_error",
    details: { scope, limit: "reads", max, window_seconds: periodS, retry_after_seconds: periodS },
  });
}

describe("the Rate Limiting bindings (wrangler.jsonc)", () => {
  it.each(["user", "tenant"] as const)(
    "the %s binding is configured with the figures its 429 announces",
    (scope) => {
      const { binding, max, periodS } = READ_LIMITS[scope];
      // The local binding (miniflare's) keeps its wrangler.jsonc figures on itself.
      expect((env as Env)[binding]).toMatchObject({ limitVal: max, period: periodS });
    },
  );

  it("admits exactly `limit` calls per key and window, then refuses", async () => {
    const { binding, max, periodS } = READ_LIMITS.user;
    const limiter = (env as Env)[binding];
    const outcomes = await inOneWindow(periodS, async () => {
      const key = `test:${crypto.randomUUID()}`;
      const first = await Promise.all(Array.from({ length: max }, () => limiter.limit({ key })));
      return [...first, await limiter.limit({ key })];
    });
    expect(outcomes.filter((o) => o.success)).toHaveLength(max);
    expect(outcomes.at(-1)!.success).toBe(false);
  });
});

describe("read limits through the app", () => {
  it("refuses a user's reads over its limit with 429, Retry-After and RateLimit; its other users and its creations go on", async () => {
    startSimulator();
    const t = await createTenant();
    const { max, periodS } = READ_LIMITS.user;
    const [looper, allowed, refused] = await inOneWindow(periodS, async (attempt) => {
      const token = await t.token({ sub: `looper-${attempt}` });
      const ok = await Promise.all(Array.from({ length: max }, () => gw("/v1/models", bearer(token))));
      return [token, ok, await gw("/v1/models", bearer(token))] as const;
    });
    expect(allowed.map((r) => r.status)).toEqual(allowed.map(() => 200));
    expectReadRefusal(refused, await refused.json(), "user");

    expect((await gw("/v1/models", bearer(await t.token({ sub: "other" })))).status).toBe(200);
    // Creating is not a read: it has its own, exact limits in the tenant's object.
    expect((await gw("/v1/videos/generations", withJson(looper, VALID_BODY))).status).toBe(200);
  });

  it("holds a token without sub to its tenant's limit; a refused user does not count against its tenant", async () => {
    const t = await createTenant();
    const user = new StrictLimiter(2);
    const tenant = new StrictLimiter(3);
    const limits = { READ_LIMIT_USER: user, READ_LIMIT_TENANT: tenant };
    const alice = bearer(await t.token({ sub: "alice" }));
    for (let i = 0; i < 2; i++) expect((await send("/v1/models", alice, limits)).res.status).toBe(200);
    const over = await send("/v1/models", alice, limits);
    expectReadRefusal(over.res, over.body, "user");
    expect(user.keys).toEqual([`user:${t.id}:alice`, `user:${t.id}:alice`, `user:${t.id}:alice`]);
    expect(tenant.keys).toEqual([`tenant:${t.id}`, `tenant:${t.id}`]);

    const backend = bearer(await t.token({ sub: null }));
    expect((await send("/v1/models", backend, limits)).res.status).toBe(200);
    const full = await send("/v1/models", backend, limits);
    expectReadRefusal(full.res, full.body, "tenant");
    expect(user.keys).toHaveLength(3); // a token without sub has no user to count
    // Once the tenant is full, its users are refused too, on its limit.
    expect(
      (await send("/v1/models", bearer(await t.token({ sub: "bob" })), limits)).body.error.details,
    ).toMatchObject({
      scope: "tenant",
    });
  });

  it("refuses before any object call or upstream query, on every read route; the files API in both envelopes", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token();
    const created = await gw("/v1/videos/generations", withJson(token, VALID_BODY));
    const id = ((await created.json()) as { id: string }).id;
    const refuseAll = { READ_LIMIT_USER: new StrictLimiter(0) };
    const upstream = callsTo(UPSTREAM_HOST).length;
    for (const path of [
      `/v1/tasks/${id}`,
      "/v1/tasks",
      "/v1/usage",
      "/v1/models",
      "/api/v1/files/list",
      "/api/v1/files/quota",
    ]) {
      const { res, body, ops } = await send(path, bearer(token), refuseAll);
      expectReadRefusal(res, body, "user");
      expect(ops, path).toEqual({ "READ_LIMIT_USER.limit": 1 });
      if (path.startsWith("/api/v1/files/"))
        expect(body).toMatchObject({ success: false, code: 429, msg: body.error.message });
    }
    expect(callsTo(UPSTREAM_HOST).length).toBe(upstream);
  });

  it("counts a poll at once with its cache lookup: a refused poll is 429 even for an ended task the cache holds", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const token = await t.token();
    const created = await gw("/v1/videos/generations", withJson(token, VALID_BODY));
    const id = ((await created.json()) as { id: string }).id;
    await clock.advance(60_000);
    // The poll that sees the end keeps the final view in the location's cache; the next answers from it.
    expect(((await (await gw(`/v1/tasks/${id}`, bearer(token))).json()) as any).status).toBe("completed");
    const upstream = callsTo(UPSTREAM_HOST).length;
    const cachedPoll = await send(`/v1/tasks/${id}`, bearer(token), {});
    expect(cachedPoll.body.status).toBe("completed");
    expect(cachedPoll.ops).toEqual({ "READ_LIMIT_USER.limit": 1, "READ_LIMIT_TENANT.limit": 1 });
    expect(callsTo(UPSTREAM_HOST).length).toBe(upstream);

    const refused = await send(`/v1/tasks/${id}`, bearer(token), { READ_LIMIT_USER: new StrictLimiter(0) });
    expectReadRefusal(refused.res, refused.body, "user");
    expect(refused.ops).toEqual({ "READ_LIMIT_USER.limit": 1 });
    const full = { READ_LIMIT_TENANT: new StrictLimiter(0) };
    const tenantFull = await send(`/v1/tasks/${id}`, bearer(token), full);
    expectReadRefusal(tenantFull.res, tenantFull.body, "tenant");
    // An id the caller may not see is counted too, and is the uniform 404 once counted.
    const foreign = await send(`/v1/tasks/${id}x`, bearer(token), {});
    expect(foreign.res.status).toBe(404);
    expect(foreign.ops).toEqual({ "READ_LIMIT_USER.limit": 1, "READ_LIMIT_TENANT.limit": 1 });
    const refusedForeign = await send(`/v1/tasks/${id}x`, bearer(token), {
      READ_LIMIT_USER: new StrictLimiter(0),
    });
    expectReadRefusal(refusedForeign.res, refusedForeign.body, "user");
    expect(callsTo(UPSTREAM_HOST).length).toBe(upstream);
  });

  it("counts reads only: creation and deletion are not refused by a read limit", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token();
    const refuseAll = { READ_LIMIT_USER: new StrictLimiter(0), READ_LIMIT_TENANT: new StrictLimiter(0) };
    await send("/v1/models", bearer(token), {}); // the tenant record, read once per isolate
    const created = await send("/v1/videos/generations", withJson(token, VALID_BODY), refuseAll);
    expect(created.res.status).toBe(200);
    expect(created.ops).toEqual({ "TENANT_STATE.create": 1 });
    const deleted = await send("/api/v1/files/file_abc", { ...bearer(token), method: "DELETE" }, refuseAll);
    expect(deleted.res.status).toBe(404);
  });

  it("counts the estimate, a POST that only reads, as a read: refused before any object call", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token();
    await send("/v1/models", bearer(token), {}); // the tenant record, read once per isolate
    const path = "/v1/videos/generations/estimate";
    const counted = await send(path, withJson(token, VALID_BODY), {});
    expect(counted.res.status).toBe(200);
    expect(counted.ops).toEqual({
      "READ_LIMIT_USER.limit": 1,
      "READ_LIMIT_TENANT.limit": 1,
      "TENANT_STATE.checkAdmission": 1,
    });
    const refused = await send(path, withJson(token, VALID_BODY), { READ_LIMIT_USER: new StrictLimiter(0) });
    expectReadRefusal(refused.res, refused.body, "user");
    expect(refused.ops).toEqual({ "READ_LIMIT_USER.limit": 1 });
    expect(callsTo(UPSTREAM_HOST).length).toBe(0);
  });

  it("lets reads through when the limiter itself fails (it guards the operator's quota, it is not one)", async () => {
    const t = await createTenant();
    const broken = { READ_LIMIT_USER: brokenLimiter, READ_LIMIT_TENANT: brokenLimiter };
    await send("/v1/models", bearer(await t.token()), {}); // the tenant record, read once per isolate
    const read = await send("/v1/models", bearer(await t.token()), broken);
    expect(read.res.status).toBe(200);
    expect(read.ops).toEqual({ "READ_LIMIT_USER.limit": 1, "READ_LIMIT_TENANT.limit": 1 });
  });
});
