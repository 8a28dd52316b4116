// The credit estimate with the operator's pricing overrides (QUOTA_PRICING, JSON keyed by model id), so a
// price change upstream is a config change, not a deploy. Unset fields keep the registry's defaults
// (src/generations/models.ts: EvoLink's published per-second prices).
import * as z from "zod";
import {
  estimateCredits,
  type ModelPricing,
  type ModelSpec,
  type PricedRequest,
} from "../generations/models";

const positive = z.number().positive().finite();

const PricingOverrideSchema = z
  .object({
    credits_per_second: positive.optional(),
    quality_factor: z
      .object({ "720p": positive.optional(), "1080p": positive.optional() })
      .strict()
      .optional(),
    silent_factor: positive.optional(),
    input_seconds_cap: z.number().nonnegative().finite().optional(),
    minimum_credits: z.number().nonnegative().finite().optional(),
  })
  .strict();

export const PricingOverridesSchema = z.record(z.string().min(1).max(100), PricingOverrideSchema);
export type PricingOverrides = z.infer<typeof PricingOverridesSchema>;

/** The model's pricing with the override for its id applied. */
export function pricingFor(spec: ModelSpec, overrides: PricingOverrides): ModelPricing {
  const o = overrides[spec.id];
  if (!o) return spec.pricing;
  const p = spec.pricing;
  return {
    creditsPerSecond: o.credits_per_second ?? p.creditsPerSecond,
    qualityFactor: {
      "720p": o.quality_factor?.["720p"] ?? p.qualityFactor["720p"],
      "1080p": o.quality_factor?.["1080p"] ?? p.qualityFactor["1080p"],
    },
    silentFactor: o.silent_factor ?? p.silentFactor,
    inputSecondsCap: o.input_seconds_cap ?? p.inputSecondsCap,
    minimumCredits: o.minimum_credits ?? p.minimumCredits,
  };
}

/** Credits a request is estimated to cost, under the operator's prices. */
export function estimate(spec: ModelSpec, request: PricedRequest, overrides: PricingOverrides): number {
  return estimateCredits({ ...spec, pricing: pricingFor(spec, overrides) }, request);
}
