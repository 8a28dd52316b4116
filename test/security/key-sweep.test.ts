// The sweep itself must be able to fail: prove it catches a leak, and that the suite's traffic is swept.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant } from "../fixtures/tenants";
import { VALID_BODY, gw, startSimulator, withJson } from "../helpers/gateway";
import { sweepResponse, sweepStats } from "../helpers/sweep";

describe("upstream key sweep", () => {
  it("detects a key in a body, a header and a log line", async () => {
    const key = env.UPSTREAM_API_KEY as string;
    await expect(sweepResponse(new Response(`oops ${key}`))).rejects.toThrow(/leaked/);
    await expect(sweepResponse(new Response("ok", { headers: { "x-debug": key } }))).rejects.toThrow(
      /leaked/,
    );
    expect(() => console.log(`debug ${key}`)).toThrow(/leaked/);
  });

  it("sweeps every response of the error paths, with none leaking", async () => {
    const { sim } = startSimulator();
    const t = await createTenant();
    const before = sweepStats.responses;
    for (const status of [401, 402, 403, 429, 500] as const) {
      sim.inject({ create: { status, count: 1 } });
      await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    }
    sim.inject({ hangCreate: true });
    await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(sweepStats.responses - before).toBe(6);
  });
});
