// Each limit, for the tenant and for the user, through the real app against the simulator: the refusal's
// status, code, Retry-After, RateLimit fields and figures, that a refused request never reaches the upstream
// and changes no counter, and that an absent limit is no limit.
import { describe, expect, it } from "vitest";
import { UPSTREAM_HOST, startSimulator } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { BODY_CREDITS, createdId, generate, getTask, quotaTenant, usage } from "./helpers";

const creates = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "POST").length;

describe("requests_per_minute", () => {
  it("tenant: refuses the request over the limit with 429, Retry-After and the RateLimit fields", async () => {
    startSimulator();
    const t = await quotaTenant({ requests_per_minute: 2 });
    const first = await generate(t, { sub: "alice" });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"tenant-rpm";q=2;w=60');
    expect(first.headers.get("ratelimit")).toBe('"tenant-rpm";r=1;t=60');
    const second = await generate(t, { sub: "bob" });
    expect(second.status).toBe(200);
    expect(second.headers.get("ratelimit")).toMatch(/^"tenant-rpm";r=0;t=(5\d|60)$/);

    const before = await usage(t, null);
    const refused = await generate(t, { sub: "carol" });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("ratelimit")).toBe(`"tenant-rpm";r=0;t=${retryAfter}`);
    expect(await refused.json()).toMatchObject({
      error: {
        code: "rate_limit_exceeded",
        type: "rate_limit_error",
        details: { scope: "tenant", limit: "requests_per_minute", max: 2, retry_after_seconds: retryAfter },
      },
    });
    expect(creates()).toBe(2);
    expect(await usage(t, null)).toEqual(before);
  });

  it("user: limits each user on their own; a token without sub is held to the tenant's limits only", async () => {
    startSimulator();
    const t = await quotaTenant(undefined, { requests_per_minute: 1 });
    expect((await generate(t, { sub: "alice" })).status).toBe(200);
    const refused = await generate(t, { sub: "alice" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"user-rpm";q=1;w=60');
    expect(await refused.json()).toMatchObject({
      error: { code: "rate_limit_exceeded", details: { scope: "user", max: 1 } },
    });
    expect((await generate(t, { sub: "bob" })).status).toBe(200);
    expect((await generate(t, { sub: null })).status).toBe(200);
    expect((await generate(t, { sub: null })).status).toBe(200);
    expect(creates()).toBe(4);
  });
});

describe("max_concurrent_tasks", () => {
  it("tenant: counts tasks until they end, and frees the slot when the task completes", async () => {
    const { clock } = startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    const id = await createdId(await generate(t));
    const refused = await generate(t, { sub: "someone-else" });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    // The simulator announces estimated_time 5 s for its tasks.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    expect(refused.headers.get("ratelimit")).toBe(`"tenant-concurrency";r=0;t=${retryAfter}`);
    expect(await refused.json()).toMatchObject({
      error: {
        code: "concurrency_limit_exceeded",
        type: "rate_limit_error",
        details: { scope: "tenant", max: 1, active: 1 },
      },
    });
    expect(creates()).toBe(1);

    await clock.advance(6_000);
    expect(((await (await getTask(t, id)).json()) as { status: string }).status).toBe("completed");
    expect((await generate(t, { sub: "someone-else" })).status).toBe(200);
  });

  it("user: one user's running tasks do not hold another user back", async () => {
    const { clock } = startSimulator();
    const t = await quotaTenant(undefined, { max_concurrent_tasks: 1 });
    const id = await createdId(await generate(t, { sub: "alice" }));
    const refused = await generate(t, { sub: "alice" });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      error: { code: "concurrency_limit_exceeded", details: { scope: "user" } },
    });
    expect((await generate(t, { sub: "bob" })).status).toBe(200);

    await clock.advance(6_000);
    await getTask(t, id, "alice");
    expect((await generate(t, { sub: "alice" })).status).toBe(200);
  });
});

describe("monthly_credits", () => {
  it("tenant: 402 when the estimate does not fit in what is left, with the figures", async () => {
    const { clock } = startSimulator();
    const t = await quotaTenant({ monthly_credits: 50 });
    const a = await createdId(await generate(t, { sub: "alice" }));
    await createdId(await generate(t, { sub: "bob" }));
    const before = await usage(t, null);
    expect(before.tenant.monthly_credits).toMatchObject({
      limit: 50,
      used: 0,
      reserved: 47.6,
      remaining: 2.4,
    });

    const refused = await generate(t, { sub: "carol" });
    expect(refused.status).toBe(402);
    expect(refused.headers.get("retry-after")).toBeNull();
    const body = (await refused.json()) as { error: Record<string, any> };
    expect(body.error).toMatchObject({
      code: "insufficient_quota",
      type: "insufficient_quota",
      details: {
        scope: "tenant",
        limit: "monthly_credits",
        total_limit_credits: 50,
        used_credits: 0,
        reserved_credits: 47.6,
        remaining_credits: 2.4,
        estimated_credits: BODY_CREDITS,
        reset_timezone: "UTC",
      },
    });
    expect(Date.parse(body.error.details.reset_at)).toBeGreaterThan(Date.now());
    expect(new Date(body.error.details.reset_at).getUTCDate()).toBe(1);
    expect(creates()).toBe(2);
    expect(await usage(t, null)).toEqual(before);

    // Both tasks end (their callbacks settle them; the poll finds them settled): the credits move from
    // reserved to used, and are still spent.
    await clock.advance(6_000);
    await getTask(t, a, "alice");
    const after = await usage(t, null);
    expect(after.tenant.monthly_credits).toMatchObject({ used: 47.6, reserved: 0, remaining: 2.4 });
    expect((await generate(t, { sub: "carol" })).status).toBe(402);
  });

  it("user: each user's credits are their own; the tenant's still bind them all", async () => {
    startSimulator();
    const t = await quotaTenant({ monthly_credits: 100 }, { monthly_credits: 30 });
    expect((await generate(t, { sub: "alice" })).status).toBe(200);
    const refused = await generate(t, { sub: "alice" });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({
      error: {
        details: {
          scope: "user",
          total_limit_credits: 30,
          reserved_credits: BODY_CREDITS,
          remaining_credits: 6.2,
        },
      },
    });
    // Even the cheapest request (the 9-credit minimum) does not fit in alice's 6.2.
    const small = {
      model: "wan2.6-reference-video-flash",
      prompt: "x",
      video_urls: ["https://cdn.acme.example/a.mp4"],
      duration: 2,
      generate_audio: false,
    };
    expect((await generate(t, { sub: "alice", body: small })).status).toBe(402);
    for (const sub of ["bob", "carol", "dave"]) expect((await generate(t, { sub })).status).toBe(200);
    // 4 × 23.8 = 95.2 reserved: the tenant's 100 leaves no room for a fifth user.
    const tenantFull = await generate(t, { sub: "erin" });
    expect(tenantFull.status).toBe(402);
    expect(await tenantFull.json()).toMatchObject({
      error: { details: { scope: "tenant", remaining_credits: 4.8 } },
    });
    expect(creates()).toBe(4);
  });
});

describe("no limits", () => {
  it("admits everything and sends no RateLimit fields", async () => {
    startSimulator();
    const t = await quotaTenant();
    for (let i = 0; i < 5; i++) {
      const res = await generate(t);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit")).toBeNull();
      expect(res.headers.get("ratelimit-policy")).toBeNull();
    }
    const u = await usage(t, null);
    expect(u.tenant).toMatchObject({
      requests_per_minute: { limit: null, used: 5, remaining: null },
      concurrent_tasks: { limit: null, active: 5, remaining: null },
      monthly_credits: { limit: null, used: 0, reserved: 5 * BODY_CREDITS, remaining: null },
    });
  });
});
