// POST /v1/videos/generations/estimate through the real app against the simulator: the estimate equals the
// `credits_reserved` of a generation created right after with the same body, over the whole parameter grid;
// it reserves nothing, takes no rate-window slot and never calls the upstream; a quota that would refuse
// the generation is an answer (`admissible: false` and the generation's code and figures), while invalid
// bodies and policy violations are the generation's own errors.
import { describe, expect, it } from "vitest";
import { MODELS, QUALITIES, supports } from "../../src/upstream/models";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { UPSTREAM_HOST, VALID_BODY, gw, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { BODY_CREDITS, generate, quotaTenant, usage } from "../quota/helpers";

async function estimate(t: TenantFixture, body: object = VALID_BODY, sub: string | null = "user-1") {
  const res = await gw("/v1/videos/generations/estimate", withJson(await t.token({ sub }), body));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const upstreamCalls = () => callsTo(UPSTREAM_HOST).length;

describe("the estimate equals the reservation", () => {
  it("over every model, quality, duration, audio setting and number of reference videos", async () => {
    startSimulator();
    const t = await createTenant();
    let cases = 0;
    for (const spec of MODELS.values()) {
      const audios = supports(spec, "generate_audio") ? [true, false] : [undefined];
      for (const quality of QUALITIES)
        for (let duration = spec.duration.min; duration <= spec.duration.max; duration++)
          for (const generate_audio of audios)
            for (let clips = spec.videoUrls.min; clips <= spec.videoUrls.max; clips++) {
              const body = {
                model: spec.id,
                prompt: "A person dancing in the rain",
                video_urls: Array.from({ length: clips }, (_, i) => `https://cdn.acme.example/ref-${i}.mp4`),
                quality,
                duration,
                ...(generate_audio === undefined ? {} : { generate_audio }),
              };
              const label = JSON.stringify({ model: spec.id, quality, duration, generate_audio, clips });
              const before = upstreamCalls();
              // A user per case: the estimates are reads, and 162 of them would pass a user's read limit.
              const sub = `user-${cases}`;
              const quote = await estimate(t, body, sub);
              expect(quote.status, label).toBe(200);
              expect(upstreamCalls(), label).toBe(before);
              expect(quote.body.admissible, label).toBe(true);
              expect(quote.body.reason, label).toBeNull();
              const b = quote.body.breakdown;
              expect(b, label).toMatchObject({
                model: spec.id,
                quality,
                output_seconds: duration,
                billed_seconds: b.input_seconds + duration,
                generate_audio: generate_audio ?? true,
                reference_videos: clips,
              });
              const product = b.billed_seconds * b.credits_per_second * b.quality_factor * b.audio_factor;
              expect(b.subtotal, label).toBeCloseTo(product, 2);
              expect(quote.body.credits, label).toBe(Math.max(b.subtotal, b.minimum_credits));

              const created = await generate(t, { body, sub });
              expect(created.status, label).toBe(200);
              const view = (await created.json()) as { usage: { credits_reserved: number } };
              expect(view.usage.credits_reserved, label).toBe(quote.body.credits);
              cases++;
            }
    }
    expect(cases).toBe(2 * 9 * 2 * 3 + 2 * 9 * 3);
  });
});

describe("admission, asked and not taken", () => {
  it("reserves nothing and takes no slot of the creation rate: a limit of 1 per minute still admits a creation", async () => {
    startSimulator();
    const t = await quotaTenant({ requests_per_minute: 1, monthly_credits: 100 });
    const before = await usage(t);
    for (let i = 0; i < 3; i++) {
      const quote = await estimate(t);
      expect(quote.body).toMatchObject({
        credits: BODY_CREDITS,
        admissible: true,
        reason: null,
        details: null,
      });
    }
    expect(await usage(t)).toEqual(before);
    expect(upstreamCalls()).toBe(0);
    expect((await generate(t)).status).toBe(200);

    const refused = await estimate(t);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      credits: BODY_CREDITS,
      admissible: false,
      reason: "rate_limit_exceeded",
      details: { scope: "tenant", limit: "requests_per_minute", max: 1 },
    });
    const generation = await generate(t);
    expect(generation.status).toBe(429);
    const error = ((await generation.json()) as { error: { details: Record<string, unknown> } }).error;
    expect(refused.body.details.retry_after_seconds).toBeGreaterThanOrEqual(
      (error.details.retry_after_seconds as number) - 1,
    );
  });

  it("answers the 402 a generation would get as insufficient_quota, with the same figures", async () => {
    startSimulator();
    const t = await quotaTenant(undefined, { monthly_credits: 30 });
    expect((await estimate(t)).body).toMatchObject({ admissible: true, reason: null });
    expect((await generate(t)).status).toBe(200);

    const quote = await estimate(t);
    expect(quote.body).toMatchObject({
      credits: BODY_CREDITS,
      admissible: false,
      reason: "insufficient_quota",
    });
    const generation = await generate(t);
    expect(generation.status).toBe(402);
    const error = ((await generation.json()) as { error: { code: string; details: unknown } }).error;
    expect(error.code).toBe(quote.body.reason);
    expect(quote.body.details).toEqual(error.details);
    expect(quote.body.details).toMatchObject({
      scope: "user",
      remaining_credits: 6.2,
      estimated_credits: 23.8,
    });
    // Another user of the tenant has its own budget: admissible.
    expect((await estimate(t, VALID_BODY, "user-2")).body).toMatchObject({ admissible: true });
    // A cheaper body fits the remaining 6.2 credits? The minimum charge is 9: no.
    const silent = { ...VALID_BODY, duration: 2, generate_audio: false };
    expect((await estimate(t, silent)).body).toMatchObject({ credits: 9, admissible: false });
  });

  it("answers a full concurrency limit as concurrency_limit_exceeded", async () => {
    startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    expect((await generate(t)).status).toBe(200);
    expect((await estimate(t)).body).toMatchObject({
      admissible: false,
      reason: "concurrency_limit_exceeded",
      details: { scope: "tenant", limit: "max_concurrent_tasks", max: 1, active: 1 },
    });
    expect((await generate(t)).status).toBe(429);
  });
});

describe("errors are the generation's", () => {
  it("refuses an invalid body with 400 and a policy violation with 403, as the generation does, without the upstream", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { max_duration: 5 } }));
    for (const [body, status, code] of [
      [{ ...VALID_BODY, duration: 11 }, 400, "invalid_request"],
      [{ ...VALID_BODY, quality: "4k" }, 400, "invalid_request"],
      [{ ...VALID_BODY, duration: 6 }, 403, "policy_violation"],
    ] as const) {
      const quote = await estimate(t, body);
      const generation = await generate(t, { body });
      const error = ((await generation.json()) as { error: Record<string, unknown> }).error;
      expect([quote.status, generation.status]).toEqual([status, status]);
      expect(quote.body.error).toEqual(error);
      expect(error.code).toBe(code);
    }
    expect(upstreamCalls()).toBe(0);
  });
});
