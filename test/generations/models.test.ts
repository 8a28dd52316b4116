// The registry and the credit estimate: README §6 prices, the 5 s input cap, half-up rounding and the
// 9-credit minimum, for the flash model and the non-flash entry.
import { describe, expect, it } from "vitest";
import {
  MODELS,
  WAN26_REFERENCE_VIDEO,
  WAN26_REFERENCE_VIDEO_FLASH,
  estimateCredits,
  findModel,
  modelFor,
} from "../../src/upstream/models";

const flash = WAN26_REFERENCE_VIDEO_FLASH;

describe("registry", () => {
  it("registers the flash and the non-flash model, each as its own entry", () => {
    expect([...MODELS.keys()]).toEqual(["wan2.6-reference-video-flash", "wan2.6-reference-video"]);
    expect(findModel("wan2.6-reference-video-flash")).toBe(flash);
    expect(findModel("wan2.6-reference-video")).toBe(WAN26_REFERENCE_VIDEO);
    expect(findModel("wan2.6-reference-video-pro")).toBeUndefined();
    expect(modelFor("wan2.6-reference-video-flash")).toBe(flash);
    expect(() => modelFor("wan2.6-reference-video-pro")).toThrow("not registered");
  });

  it("describes the flash model as the upstream documents it", () => {
    expect(flash.defaults).toEqual({
      aspect_ratio: "16:9",
      quality: "720p",
      duration: 5,
      generate_audio: true,
    });
    expect(flash.duration).toEqual({ min: 2, max: 10 });
    expect(flash.qualities).toEqual(["720p", "1080p"]);
    expect(flash.aspectRatios).toEqual(["16:9", "9:16", "1:1", "4:3", "3:4"]);
    expect(flash.videoUrls).toEqual({ min: 1, max: 3 });
    expect(flash.fields).toContain("generate_audio");
    expect(WAN26_REFERENCE_VIDEO.fields).not.toContain("generate_audio");
  });
});

describe("estimateCredits (flash)", () => {
  it.each([
    // quality, duration, audio, credits: (5 s input + duration) × 2.38 × quality × audio
    ["720p", 5, true, 23.8], // README §6 example
    ["720p", 10, true, 35.7],
    ["1080p", 10, true, 59.62], // 15 × 3.9746 = 59.619 → half-up
    ["1080p", 5, true, 39.75], // 10 × 3.9746 = 39.746
    ["720p", 5, false, 11.9],
    ["1080p", 5, false, 19.87], // 10 × 1.9873 = 19.873
    ["1080p", 7, false, 23.85], // 12 × 1.9873 = 23.8476
    ["720p", 3, true, 19.04],
    ["720p", 2, false, 9], // 7 × 1.19 = 8.33 → the 9-credit minimum
    ["720p", 2, true, 16.66],
  ] as const)("%s, %i s, audio %s → %f credits", (quality, duration, generate_audio, credits) => {
    expect(estimateCredits(flash, { quality, duration, generate_audio })).toBe(credits);
  });

  it("rounds half up to 2 decimals", () => {
    const spec = {
      ...flash,
      pricing: { ...flash.pricing, creditsPerSecond: 1.0005, inputSecondsCap: 10, minimumCredits: 0 },
    };
    expect(estimateCredits(spec, { quality: "720p", duration: 10, generate_audio: true })).toBe(20.01); // 20.01 exactly
    const half = {
      ...flash,
      pricing: { ...flash.pricing, creditsPerSecond: 0.10125, inputSecondsCap: 0, minimumCredits: 0 },
    };
    expect(estimateCredits(half, { quality: "720p", duration: 10, generate_audio: true })).toBe(1.01); // 1.0125
    const up = {
      ...flash,
      pricing: { ...flash.pricing, creditsPerSecond: 0.1005, inputSecondsCap: 0, minimumCredits: 0 },
    };
    expect(estimateCredits(up, { quality: "720p", duration: 10, generate_audio: true })).toBe(1.01); // 1.005 → 1.01
  });
});

describe("estimateCredits (non-flash entry)", () => {
  it("charges 4.76 credits/s with no audio factor", () => {
    expect(
      estimateCredits(WAN26_REFERENCE_VIDEO, { quality: "720p", duration: 5, generate_audio: true }),
    ).toBe(47.6);
    expect(
      estimateCredits(WAN26_REFERENCE_VIDEO, { quality: "720p", duration: 5, generate_audio: false }),
    ).toBe(47.6);
    expect(
      estimateCredits(WAN26_REFERENCE_VIDEO, { quality: "1080p", duration: 10, generate_audio: true }),
    ).toBe(119.24);
  });
});
