// The quota settings (QUOTA_PRICING, SWEEP_MIN_AGE_SECONDS): parsed at startup, a bad value names the
// setting in a 503; the pricing override reaches the estimate.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { objectOf } from "../helpers/objects";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { quotaTenant } from "./helpers";

const fetchWith = (vars: Record<string, unknown>, path: string, init?: RequestInit) =>
  app.fetch(new Request(`${GATEWAY}${path}`, init), { ...env, ...vars });

describe("quota settings", () => {
  it.each([
    ["QUOTA_PRICING", "{not json"],
    ["QUOTA_PRICING", '{"wan2.6-reference-video-flash":{"credits_per_second":-1}}'],
    ["QUOTA_PRICING", '{"wan2.6-reference-video-flash":{"per_second":2}}'],
    ["SWEEP_MIN_AGE_SECONDS", "0"],
  ])("%s=%s is a 503 that names the setting", async (name, value) => {
    const res = await fetchWith({ [name]: value }, "/healthz");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain(name);
  });

  it("QUOTA_PRICING overrides the estimate that is reserved and checked", async () => {
    startSimulator();
    const t = await quotaTenant({ monthly_credits: 40 });
    const pricing = JSON.stringify({ "wan2.6-reference-video-flash": { credits_per_second: 3.5 } });
    const req = async () => withJson(await t.token(), VALID_BODY);
    const first = await fetchWith({ QUOTA_PRICING: pricing }, "/v1/videos/generations", await req());
    expect(first.status).toBe(200);
    // (5 + 5) × 3.5 = 35, above the simulator's own reservation of 23.8.
    expect(((await first.json()) as { usage: { credits_reserved: number } }).usage.credits_reserved).toBe(35);
    const second = await fetchWith({ QUOTA_PRICING: pricing }, "/v1/videos/generations", await req());
    expect(second.status).toBe(402);
    expect(await second.json()).toMatchObject({
      error: { details: { reserved_credits: 35, estimated_credits: 35 } },
    });
  });
});
