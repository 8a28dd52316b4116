// toUpstreamRequest: defaults explicit, generate_audio at the top level, model_params only for shot_type,
// the gateway's callback URL instead of the tenant's, and every rewritten body valid against the
// upstream's own OpenAPI request schema (skipped, loudly, when ../shared/upstream is absent).
import { Validator, type Schema } from "@cfworker/json-schema";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toUpstreamRequest } from "../../src/generations/rewrite";
import { parseGenerationRequest } from "../../src/generations/schema";

const GATEWAY_CALLBACK = "https://gateway.reelgate.test/v1/callbacks/evolink/tok_abc";
const base = {
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing",
  video_urls: ["https://cdn.example.com/a.mp4"],
};
const rewrite = (fields: Record<string, unknown> = {}, callbackUrl: string | undefined = GATEWAY_CALLBACK) =>
  toUpstreamRequest(parseGenerationRequest({ ...base, ...fields }, { allowLocalUrls: false }), {
    callbackUrl,
  });

describe("toUpstreamRequest", () => {
  it("makes every default explicit and sends the gateway's callback URL", () => {
    expect(rewrite()).toStrictEqual({
      model: "wan2.6-reference-video-flash",
      prompt: "A person dancing",
      video_urls: ["https://cdn.example.com/a.mp4"],
      aspect_ratio: "16:9",
      quality: "720p",
      duration: 5,
      generate_audio: true,
      callback_url: GATEWAY_CALLBACK,
    });
  });

  it("never forwards the tenant's callback_url", () => {
    const valid = parseGenerationRequest(
      { ...base, callback_url: "https://tenant.example.com/hook" },
      { allowLocalUrls: false },
    );
    const body = toUpstreamRequest(valid, { callbackUrl: GATEWAY_CALLBACK });
    expect(body.callback_url).toBe(GATEWAY_CALLBACK);
    expect(JSON.stringify(body)).not.toContain("tenant.example.com");
    expect(valid.callback_url).toBe("https://tenant.example.com/hook"); // kept for the gateway
  });

  it("omits callback_url when the gateway passes none", () => {
    const valid = parseGenerationRequest(base, { allowLocalUrls: false });
    expect(toUpstreamRequest(valid, { callbackUrl: undefined })).not.toHaveProperty("callback_url");
    expect(toUpstreamRequest(valid, {})).not.toHaveProperty("callback_url");
  });

  it("moves model_params.generate_audio to the top level", () => {
    const body = rewrite({ model_params: { generate_audio: false } });
    expect(body.generate_audio).toBe(false);
    expect(body).not.toHaveProperty("model_params");
  });

  it("sends model_params only with shot_type", () => {
    expect(rewrite({ model_params: { shot_type: "multi", generate_audio: false } })).toMatchObject({
      model_params: { shot_type: "multi" },
      generate_audio: false,
    });
    expect(rewrite({ model_params: {} })).not.toHaveProperty("model_params");
  });

  it("does not share arrays with the validated request", () => {
    const valid = parseGenerationRequest(base, { allowLocalUrls: false });
    const body = toUpstreamRequest(valid, { callbackUrl: GATEWAY_CALLBACK });
    body.video_urls.push("https://x.example.com/");
    expect(valid.video_urls).toHaveLength(1);
  });
});

const contract = env.UPSTREAM_CONTRACT as
  Record<string, { components: Record<string, unknown> }> | null | undefined;
const flashDoc = contract?.["openapi-wan2.6-reference-video-flash.json"];
if (!flashDoc) console.warn("skipped: upstream OpenAPI contract not found (../shared/upstream absent)");

describe.skipIf(!flashDoc)("rewritten bodies satisfy the upstream OpenAPI request schema", () => {
  const schema = {
    $ref: "#/components/schemas/Wan26ReferenceVideoFlashRequest",
    components: flashDoc?.components,
  } as Schema;
  const validator = new Validator(schema, "2019-09", false);

  it("the validator refuses what the upstream refuses (so the check can fail)", () => {
    const good = rewrite();
    expect(validator.validate(good).valid).toBe(true);
    for (const bad of [
      { ...good, duration: 11 },
      { ...good, duration: "5" },
      { ...good, generate_audio: "true" },
      { ...good, model: "other" },
      { ...good, model_params: { shot_type: "double" } },
      { ...good, video_urls: [1] },
      { ...good, video_urls: ["a", "b", "c", "d"] },
      { ...good, prompt: "x".repeat(1501) },
    ]) {
      expect(validator.validate(bad).valid, JSON.stringify(bad).slice(0, 120)).toBe(false);
    }
  });

  it.each([
    ["the minimal request", {}],
    [
      "every field set",
      {
        video_urls: [
          "https://cdn.example.com/a.mp4",
          "http://cdn.example.com/b.mov",
          "https://cdn.example.com/c.mp4?s=1",
        ],
        aspect_ratio: "9:16",
        quality: "1080p",
        duration: 10,
        generate_audio: false,
        model_params: { shot_type: "single" },
        callback_url: "https://tenant.example.com/hook",
      },
    ],
    [
      "model_params.generate_audio",
      { model_params: { generate_audio: false }, duration: 2, aspect_ratio: "1:1" },
    ],
    ["a 1500-emoji prompt", { prompt: "🎬".repeat(1500), quality: "720p", aspect_ratio: "4:3" }],
    ["multi-shot", { model_params: { shot_type: "multi" }, aspect_ratio: "3:4", duration: 7 }],
  ])("%s", (_, fields) => {
    const body = rewrite(fields);
    const result = validator.validate(body);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
