// The operator's EvoLink balance as the gateway reads it (src/upstream/credits.ts): through the simulator for
// EvoLink's own answers, and through hand-made answers for a key with a limit of its own and for every
// failure, which end as the client's ApiErrors. The console is swept for the key throughout (test/helpers/setup.ts).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/env";
import { ApiError } from "../../src/http/errors";
import { configLogger } from "../../src/http/log";
import { getUpstreamCredits } from "../../src/upstream/credits";
import type { UpstreamCall } from "../../src/upstream/client";
import { UNLIMITED_BALANCE_CREDITS } from "../../sim/src/credits";
import { UPSTREAM_HOST, UPSTREAM_KEY, VALID_BODY, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";

/** VALID_BODY: one reference clip (5 s in) + 5 s out at 720p with audio = 10 s × 2.38. */
const ONE = 23.8;

function callWith(vars: Record<string, unknown> = {}): UpstreamCall {
  const config = loadConfig({ ...env, ...vars });
  return { config, log: configLogger(config, {}), requestId: "credits-test" };
}

/** EvoLink's answer with the given token and user figures. */
function answer(token: [remaining: number, unlimited: boolean], user: number, used = 0): Response {
  return Response.json({
    data: {
      token: { remaining_credits: token[0], unlimited_credits: token[1], used_credits: used },
      user: { remaining_credits: user, used_credits: used },
    },
    message: "",
    success: true,
  });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("getUpstreamCredits: the operator's EvoLink balance", () => {
  it("reads the simulator's account with the operator's key, as it falls when tasks complete", async () => {
    const { sim, clock } = startSimulator();
    expect(await getUpstreamCredits(callWith())).toEqual({ remaining: UNLIMITED_BALANCE_CREDITS, used: 0 });
    const [call] = callsTo(UPSTREAM_HOST);
    expect(call).toMatchObject({ method: "GET", url: `https://${UPSTREAM_HOST}/v1/credits` });
    expect(call!.headers).toMatchObject({
      authorization: `Bearer ${UPSTREAM_KEY}`,
      "x-request-id": "credits-test",
    });

    sim.configureCredits({ balance: 100 });
    const created = await sim.fetch(
      new Request(`https://${UPSTREAM_HOST}/v1/videos/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(VALID_BODY),
      }),
    );
    expect(created.status).toBe(200);
    expect(await getUpstreamCredits(callWith())).toEqual({ remaining: 100, used: 0 });
    await clock.advance(5_000);
    expect(await getUpstreamCredits(callWith())).toEqual({ remaining: 100 - ONE, used: ONE });
  });

  it("is the lower of the account's and the key's own remaining, unless the key is unlimited", async () => {
    let next = answer([40, false], 100);
    route(UPSTREAM_HOST, () => next);
    expect((await getUpstreamCredits(callWith())).remaining).toBe(40);
    next = answer([400, false], 100, 7.5);
    expect(await getUpstreamCredits(callWith())).toEqual({ remaining: 100, used: 7.5 });
    next = answer([0, true], 100);
    expect((await getUpstreamCredits(callWith())).remaining).toBe(100);
  });

  it("maps a refused key to upstream_unavailable (the operator's problem), never naming the key", async () => {
    startSimulator();
    const err = await failure(
      getUpstreamCredits(callWith({ UPSTREAM_API_KEY: "sk-not-the-operators-key-0001" })),
    );
    expect(err.code).toBe("upstream_unavailable");
    expect(err.message).not.toContain("sk-");
  });

  it("maps the upstream's failures to the client's errors: 400 and 500 upstream_error, 429 with Retry-After", async () => {
    let status = 400;
    route(UPSTREAM_HOST, () =>
      Response.json(
        { error: { code: status, message: "Invalid request", type: "invalid_request_error" } },
        { status, headers: status === 429 ? { "retry-after": "12" } : {} },
      ),
    );
    // Nothing of a tenant's is in this request: the upstream's 400 is a gateway failure, not invalid_request.
    expect((await failure(getUpstreamCredits(callWith()))).code).toBe("upstream_error");
    status = 500;
    expect((await failure(getUpstreamCredits(callWith()))).code).toBe("upstream_error");
    status = 429;
    const limited = await failure(getUpstreamCredits(callWith()));
    expect(limited.code).toBe("upstream_rate_limited");
    expect(limited.headers).toEqual({ "Retry-After": "12" });
  });

  it("refuses an answer that is not EvoLink's shape, and bounds the call by UPSTREAM_TIMEOUT_MS", async () => {
    let reply: () => Response | Promise<Response> = () =>
      Response.json({
        data: { user: { remaining_credits: 1, used_credits: 0 } },
        message: "",
        success: true,
      });
    route(UPSTREAM_HOST, () => reply());
    expect((await failure(getUpstreamCredits(callWith()))).code).toBe("upstream_error");
    reply = () => new Promise<Response>(() => {});
    const started = Date.now();
    const slow = await failure(getUpstreamCredits(callWith({ UPSTREAM_TIMEOUT_MS: "200" })));
    expect(slow.code).toBe("upstream_timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
