// GET /v1/credits through the real app: EvoLink's shape (validated against its own OpenAPI file when
// ../shared/upstream is at hand), `token` the caller's own scope, `user` what it can still spend (the smaller of
// its own and the tenant's remaining), reserved credits counted as used, nothing of the tenant's totals shown to
// a user token, one object call, and every error in EvoLink's legacy body with an integer `code`.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { READ_LIMITS, UNLIMITED_CREDITS_SHOWN } from "../../src/config/constants";
import type { Env } from "../../src/env";
import { validateWith } from "../../sim/src/contract";
import type { TenantFixture } from "../fixtures/tenants";
import { GATEWAY, admin, bearer, gw, startSimulator } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { countingEnv } from "../perf/counting";
import { BODY_CREDITS, createdId, generate, getTask, quotaTenant } from "../quota/helpers";

const CREDITS_FILE = "files/openapi-get-credits.json";
const contract = (env.UPSTREAM_CONTRACT as Record<string, unknown> | null) ?? null;

/** The answer, held to EvoLink's CreditsResponse (or, for an error, its ErrorResponse) when the file is here. */
async function credits(t: TenantFixture, sub: string | null): Promise<{ status: number; body: any }> {
  const res = await gw("/v1/credits", bearer(await t.token({ sub })));
  const body = (await res.json()) as any;
  if (contract) {
    const schema = res.status === 200 ? "CreditsResponse" : "ErrorResponse";
    expect(validateWith(contract, CREDITS_FILE, schema, body)).toEqual([]);
  }
  return { status: res.status, body };
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

describe("GET /v1/credits", () => {
  it("shows a user token its own month as `token`, reserved credits counted as used", async () => {
    const { clock } = startSimulator();
    const t = await quotaTenant({ monthly_credits: 1000 }, { monthly_credits: 100 });
    const settled = await createdId(await generate(t, { sub: "alice" }));
    await clock.advance(6_000);
    await getTask(t, settled, "alice"); // ended and settled: 23.8 used
    await createdId(await generate(t, { sub: "alice" })); // in flight: 23.8 reserved
    await createdId(await generate(t, { sub: "bob" }));
    const ledger = (await (await admin(`/admin/tenants/${t.id}/usage`)).json()) as any;
    const alice = ledger.totals.find((x: any) => x.sub === "alice");
    expect(alice).toMatchObject({ used: BODY_CREDITS, reserved: BODY_CREDITS });
    const aliceUsed = round(2 * BODY_CREDITS);

    const { status, body } = await credits(t, "alice");
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        token: {
          remaining_credits: round(100 - aliceUsed),
          unlimited_credits: false,
          used_credits: aliceUsed,
        },
        user: { remaining_credits: round(100 - aliceUsed), used_credits: aliceUsed },
      },
      message: "",
      success: true,
    });

    const tenantUsed = round(3 * BODY_CREDITS);
    const tenantWide = await credits(t, null);
    expect(tenantWide.body.data).toEqual({
      token: {
        remaining_credits: round(1000 - tenantUsed),
        unlimited_credits: false,
        used_credits: tenantUsed,
      },
      user: { remaining_credits: round(1000 - tenantUsed), used_credits: tenantUsed },
    });
  });

  it("bounds a user by the tenant's remaining, and shows it no other tenant figure", async () => {
    startSimulator();
    // The tenant's 60 credits are nearly spent by bob; alice's own 100 are untouched.
    const t = await quotaTenant({ monthly_credits: 60 }, { monthly_credits: 100 });
    await createdId(await generate(t, { sub: "bob" }));
    await createdId(await generate(t, { sub: "bob" }));
    const tenantLeft = round(60 - 2 * BODY_CREDITS);
    const { body } = await credits(t, "alice");
    expect(body.data).toEqual({
      token: { remaining_credits: 100, unlimited_credits: false, used_credits: 0 },
      user: { remaining_credits: tenantLeft, used_credits: 0 },
    });
    // Neither the tenant's limit, nor its use, nor bob's appears anywhere in alice's answer.
    const numbers = JSON.stringify(body)
      .match(/-?\d+(\.\d+)?/g)!
      .map(Number);
    for (const secret of [60, 2 * BODY_CREDITS, BODY_CREDITS]) expect(numbers).not.toContain(secret);
    expect(Object.keys(body.data)).toEqual(["token", "user"]);
    expect(Object.keys(body.data.user).sort()).toEqual(["remaining_credits", "used_credits"]);
  });

  it("a scope without a monthly limit is `unlimited_credits`; its remaining is the documented stand-in", async () => {
    startSimulator();
    const bounded = await quotaTenant({ monthly_credits: 60 });
    await createdId(await generate(bounded, { sub: "alice" }));
    expect((await credits(bounded, "alice")).body.data).toEqual({
      token: {
        remaining_credits: UNLIMITED_CREDITS_SHOWN,
        unlimited_credits: true,
        used_credits: BODY_CREDITS,
      },
      user: { remaining_credits: round(60 - BODY_CREDITS), used_credits: BODY_CREDITS },
    });
    const open = await quotaTenant();
    await createdId(await generate(open, { sub: null }));
    expect((await credits(open, null)).body.data).toEqual({
      token: {
        remaining_credits: UNLIMITED_CREDITS_SHOWN,
        unlimited_credits: true,
        used_credits: BODY_CREDITS,
      },
      user: { remaining_credits: UNLIMITED_CREDITS_SHOWN, used_credits: BODY_CREDITS },
    });
  });

  it("reads its figures with one call to the tenant's object, after the read limits", async () => {
    const t = await quotaTenant({ monthly_credits: 10 });
    const token = await t.token({ sub: "alice" });
    const counted = countingEnv(env as Env);
    const send = async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`${GATEWAY}/v1/credits`, bearer(token)), counted.env, ctx);
      await waitOnExecutionContext(ctx);
      await checkAgainstOpenApi("GET", `${GATEWAY}/v1/credits`, res);
      return res;
    };
    expect((await send()).status).toBe(200); // the tenant record, read once per isolate
    counted.take();
    expect((await send()).status).toBe(200);
    expect(counted.take()).toEqual({
      "READ_LIMIT_USER.limit": 1,
      "READ_LIMIT_TENANT.limit": 1,
      "TENANT_STATE.usage": 1,
    });
  });

  it("answers errors in EvoLink's legacy body: the status as an integer `code`, reelgate's code as `reason`", async () => {
    const t = await quotaTenant();
    const denied = await gw("/v1/credits", bearer("not-a-token"));
    expect(denied.status).toBe(401);
    const body = (await denied.json()) as any;
    expect(body).toEqual({
      error: expect.objectContaining({
        code: 401,
        reason: "unauthorized",
        type: "authentication_error",
        message: expect.any(String),
      }),
    });
    if (contract) expect(validateWith(contract, CREDITS_FILE, "ErrorResponse", body)).toEqual([]);

    // A read refused by its limit: before any object call, with EvoLink's retry hint.
    const refuse: RateLimit = { limit: async () => ({ success: false }) };
    const counted = countingEnv({ ...(env as Env), READ_LIMIT_USER: refuse } as Env);
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${GATEWAY}/v1/credits`, bearer(await t.token({ sub: "alice" }))),
      counted.env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await checkAgainstOpenApi("GET", `${GATEWAY}/v1/credits`, res);
    expect(res.status).toBe(429);
    const limited = (await res.json()) as any;
    const { periodS } = READ_LIMITS.user;
    expect(res.headers.get("retry-after")).toBe(String(periodS));
    expect(limited.error).toMatchObject({
      code: 429,
      reason: "rate_limit_exceeded",
      type: "rate_limit_error",
      fallback_suggestion: `retry after ${periodS} seconds`,
    });
    expect(Object.keys(counted.take()).filter((op) => op.startsWith("TENANT_STATE"))).toEqual([]);
    if (contract) expect(validateWith(contract, CREDITS_FILE, "ErrorResponse", limited)).toEqual([]);
  });
});
