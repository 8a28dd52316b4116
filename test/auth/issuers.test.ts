// The issuer lookup against garbage: an `iss` no tenant can own is refused before any KV read (a key past
// KV's 512-byte limit would throw: a 500), and a flood of made-up issuers cannot push a real tenant out of
// the isolate's cache. KV operations are counted exactly (test/perf/counting.ts).
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { findTenantByIssuer, MAX_CACHED } from "../../src/tenants/lookup";
import { MAX_ISSUER_LENGTH } from "../../src/tenants/schema";
import { rawToken } from "../fixtures/keys";
import { createTenant } from "../fixtures/tenants";
import { GATEWAY } from "../helpers/gateway";
import { countingEnv, type Tally } from "../perf/counting";

const counted = countingEnv(env as Env);

async function usage(token: string): Promise<{ status: number; body: any; ops: Tally }> {
  counted.take();
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${GATEWAY}/v1/usage`, { headers: { authorization: `Bearer ${token}` } }),
    counted.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: await res.json(), ops: counted.take() };
}

const kvOps = (ops: Tally) => Object.keys(ops).filter((op) => op.startsWith("KV."));

/** A token naming `iss`; its signature never gets checked, the issuer decides first. */
const tokenFor = (iss: string) =>
  rawToken({ alg: "HS256", typ: "JWT" }, { iss, aud: "reelgate", exp: 4_102_444_800 }, "c2ln");

afterEach(() => vi.useRealTimers());

describe("the issuer lookup", () => {
  it("refuses an iss longer than any tenant's issuer with the generic 401, without a KV read", async () => {
    const oversized = [
      "i".repeat(MAX_ISSUER_LENGTH + 1), // just past the schema's limit, still a legal KV key
      `https://${"x".repeat(600)}.example/`, // past KV's 512-byte key limit
      "€".repeat(MAX_ISSUER_LENGTH), // within the limit in characters, 1 200 bytes as a KV key
    ];
    for (const iss of oversized) {
      const res = await usage(tokenFor(iss));
      expect(res.status, iss.slice(0, 20)).toBe(401);
      expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
      expect(kvOps(res.ops), iss.slice(0, 20)).toEqual([]);
    }
  });

  it("keeps a real tenant cached through a flood of unknown issuers, which stay remembered too", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() }); // the flood must not outlast the cache TTL
    const t = await createTenant();
    const token = await t.token();
    expect((await usage(token)).ops).toMatchObject({ "KV.get issuer:": 1, "KV.get tenant:": 1 });
    expect(kvOps((await usage(token)).ops)).toEqual([]);

    // More made-up issuers than the tenant cache holds: each costs one KV read, once.
    const flood = Array.from({ length: MAX_CACHED + 1 }, (_, i) => `https://nobody-${i}.example/`);
    counted.take();
    for (let i = 0; i < flood.length; i += 200)
      await Promise.all(flood.slice(i, i + 200).map((iss) => findTenantByIssuer(counted.env, iss)));
    expect(counted.take()).toEqual({ "KV.get issuer:": flood.length });

    const after = await usage(token);
    expect(after.status).toBe(200);
    expect(kvOps(after.ops)).toEqual([]);
    // The latest unknown issuers are still answered from memory.
    expect(await findTenantByIssuer(counted.env, flood.at(-1)!)).toBeNull();
    expect(counted.take()).toEqual({});
  });
});
