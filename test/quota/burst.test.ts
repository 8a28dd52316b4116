// Bursts: 50 concurrent creation requests against a limit of 10. With the default store (the tenant's
// Durable Object) exactly 10 are admitted and exactly 10 reach the upstream, for every kind of limit.
// With QUOTA_STORE=kv the same burst is measured: KV's read-modify-write admits more than the limit, and
// the figures found here (logged) are the ones docs/quotas.md states: 50 of 50 for a simultaneous burst,
// and, through two locations' cached views of KV, twice the limit even for sequential requests.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { tenantState } from "../../src/state/tenant-state";
import type { TenantFixture } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { kvQuotaKey } from "../../src/quota/kv-store";
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

describe("QUOTA_STORE=durable_object (default): exact at any concurrency", () => {
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
    const ledger = await tenantState(env, t.id).usage(null, Date.now());
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

/** The app with QUOTA_STORE=kv (the Durable Objects and KV are the test's own), optionally another KV view. */
async function kvGenerate(t: TenantFixture, sub: string, kv: KVNamespace = env.KV): Promise<Response> {
  const token = await t.token({ sub });
  return app.fetch(new Request(`${GATEWAY}/v1/videos/generations`, withJson(token, VALID_BODY)), {
    ...env,
    KV: kv,
    QUOTA_STORE: "kv",
  });
}

/**
 * A model of one Cloudflare location's view of KV: a value read once is served from the location's cache
 * (KV's default cacheTtl is 60 s) while its own writes are seen at once. Local KV has no such cache, so
 * without this model the tests would only show the same-instant race.
 */
function location(): KVNamespace {
  const cache = new Map<string, unknown>();
  return new Proxy(env.KV, {
    get(target, prop) {
      if (prop === "get")
        return async (key: string, type: "json") => {
          if (!cache.has(key)) cache.set(key, await target.get(key, type));
          return structuredClone(cache.get(key));
        };
      if (prop === "put")
        return async (key: string, value: string, options?: KVNamespacePutOptions) => {
          cache.set(key, JSON.parse(value));
          await target.put(key, value, options);
        };
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("QUOTA_STORE=kv: over-admits under a burst (measured)", () => {
  it.each([
    ["max_concurrent_tasks", { max_concurrent_tasks: LIMIT }],
    ["requests_per_minute", { requests_per_minute: LIMIT }],
  ] as const)("tenant %s = 10: 50 concurrent requests admit more than 10", async (name, quotas) => {
    const admittedPerRound: number[] = [];
    for (let round = 0; round < 3; round++) {
      startSimulator();
      const t = await quotaTenant(quotas);
      const before = creates();
      const result = await burst((i) => kvGenerate(t, `user-${i}`));
      // Every admitted request reached the upstream; every other one was refused by the quota.
      expect(creates() - before).toBe(result.ok);
      expect(result.ok + (result.byStatus.get(429) ?? 0)).toBe(BURST);
      admittedPerRound.push(result.ok);
      // The Durable Object's ledger is kept in kv mode too, and shows the over-admission.
      expect((await tenantState(env, t.id).usage(null, Date.now())).tenant.active).toBe(result.ok);
    }
    console.log(`kv burst ${name}=${LIMIT}, ${BURST} concurrent: admitted ${admittedPerRound.join(", ")}`);
    for (const n of admittedPerRound) expect(n).toBeGreaterThan(LIMIT);

    // Sequential requests against KV are held to the limit: the race needs concurrency.
    startSimulator();
    const t = await quotaTenant(quotas);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await kvGenerate(t, `user-${i}`)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.slice(LIMIT)).toEqual([429, 429]);
  });

  it("sequential requests through two locations' cached views: each location admits up to the limit", async () => {
    startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: LIMIT });
    const locations = [location(), location()];
    // Let each location read (and cache) the empty counters once, as an earlier request would have.
    for (const kv of locations) await kv.get(await kvQuotaKey(t.id, null), "json");
    let ok = 0;
    for (let i = 0; i < BURST; i++)
      if ((await kvGenerate(t, `user-${i}`, locations[i % 2]!)).status === 200) ok++;
    console.log(
      `kv two locations, ${BURST} sequential requests, max_concurrent_tasks=${LIMIT}: admitted ${ok}`,
    );
    expect(ok).toBe(2 * LIMIT);
    expect(creates()).toBe(2 * LIMIT);
  });
});
