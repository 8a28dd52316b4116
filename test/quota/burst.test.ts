// Bursts: 50 concurrent creation requests against a limit of 10 admit exactly 10, and exactly 10 reach the
// upstream, for every kind of limit: the tenant's Durable Object is the only authority for admission. Once
// it has refused a rate limit, the edge refuses the flood that follows without calling it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { objectOf } from "../helpers/objects";
import type { TenantFixture } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { countingEnv } from "../perf/counting";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import type { Env } from "../../src/env";
import { generate, type Quotas, quotaTenant } from "./helpers";

const BURST = 50;
const LIMIT = 10;
const creates = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "POST").length;

async function burst(send: (i: number) => Promise<Response>) {
  const responses = await Promise.all(Array.from({ length: BURST }, (_, i) => send(i)));
  const byStatus = new Map<number, number>();
  const codes = new Map<string, number>();
  for (const res of responses) {
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    if (res.status !== 200) {
      const code = ((await res.json()) as { error: { code: string } }).error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  return { ok: byStatus.get(200) ?? 0, byStatus, codes };
}

describe("admission in the tenant's object: exact at any concurrency", () => {
  it.each([
    ["max_concurrent_tasks", { max_concurrent_tasks: LIMIT }, 429, "concurrency_limit_exceeded"],
    ["requests_per_minute", { requests_per_minute: LIMIT }, 429, "rate_limit_exceeded"],
    ["monthly_credits", { monthly_credits: LIMIT * 23.8 }, 402, "insufficient_quota"],
  ] as const)("tenant %s = 10: 50 concurrent requests admit exactly 10", async (_n, quotas, status, code) => {
    startSimulator();
    const t = await quotaTenant(quotas as Quotas);
    const result = await burst((i) => generate(t, { sub: `user-${i}` }));
    expect(result.ok).toBe(LIMIT);
    expect(result.byStatus.get(status)).toBe(BURST - LIMIT);
    expect(result.codes.get(code)).toBe(BURST - LIMIT);
    expect(creates()).toBe(LIMIT);
    const ledger = await (await objectOf(t.id)).usage(null, Date.now());
    expect(ledger.tenant.active).toBe(LIMIT);
  });

  it("user max_concurrent_tasks = 10: one user's 50 concurrent requests admit exactly 10", async () => {
    startSimulator();
    const t = await quotaTenant(undefined, { max_concurrent_tasks: LIMIT });
    const result = await burst(() => generate(t, { sub: "alice" }));
    expect(result.ok).toBe(LIMIT);
    expect(result.codes.get("concurrency_limit_exceeded")).toBe(BURST - LIMIT);
    expect(creates()).toBe(LIMIT);
  });
});

/** The app with an env whose Durable Object calls are counted (test/perf/counting.ts). */
async function countedGenerate(t: TenantFixture, sub: string, env: Env): Promise<Response> {
  const token = await t.token({ sub });
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${GATEWAY}/v1/videos/generations`, withJson(token, VALID_BODY)),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("a flood of refused requests is refused at the edge", () => {
  it("after the object refuses a rate limit once, the flood makes no further object calls", async () => {
    startSimulator();
    const counted = countingEnv(env as Env);
    const t = await quotaTenant({ requests_per_minute: LIMIT });
    const result = await burst((i) => countedGenerate(t, `user-${i}`, counted.env));
    expect(result.ok).toBe(LIMIT);
    expect(creates()).toBe(LIMIT);
    counted.take();

    const flood: number[] = [];
    for (let i = 0; i < 100; i++) flood.push((await countedGenerate(t, `user-${i}`, counted.env)).status);
    expect(flood.every((s) => s === 429)).toBe(true);
    expect(counted.take()).toEqual({});
    expect(creates()).toBe(LIMIT);
  });

  it("refusals at the edge carry Retry-After and the RateLimit fields, like the object's", async () => {
    startSimulator();
    const counted = countingEnv(env as Env);
    const t = await quotaTenant(undefined, { requests_per_minute: 2 });
    for (let i = 0; i < 3; i++) await countedGenerate(t, "alice", counted.env);
    counted.take();
    const res = await countedGenerate(t, "alice", counted.env);
    expect(counted.take()).toEqual({});
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.headers.get("ratelimit")).toContain('"user-rpm";r=0');
    expect(((await res.json()) as any).error).toMatchObject({ code: "rate_limit_exceeded" });
    // Another user of the same tenant is not held to alice's limit: the object decides for bob.
    expect((await countedGenerate(t, "bob", counted.env)).status).toBe(200);
    expect(counted.take()).toEqual({ "TENANT_STATE.create": 1 });
  });

  it("a concurrency refusal is never remembered: the next request asks the object", async () => {
    startSimulator();
    const counted = countingEnv(env as Env);
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    expect((await countedGenerate(t, "a", counted.env)).status).toBe(200);
    expect((await countedGenerate(t, "a", counted.env)).status).toBe(429);
    counted.take();
    expect((await countedGenerate(t, "a", counted.env)).status).toBe(429);
    expect(counted.take()).toEqual({ "TENANT_STATE.create": 1 });
  });
});
