// The credit estimate with the operator's pricing overrides (QUOTA_PRICING, src/config/pricing.ts), so a
// price change upstream is a config change, not a deploy. Unset fields keep the registry's defaults
// (src/upstream/models.ts: EvoLink's published per-second prices).
import {
  creditBreakdown,
  type CreditBreakdown,
  type ModelPricing,
  type ModelSpec,
  type PricedRequest,
} from "../upstream/models";
import type { PricingOverrides } from "../config/pricing";

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
  return quote(spec, request, overrides).credits;
}

/** The estimate with the terms it multiplies, under the operator's prices (the estimate endpoint shows both). */
export function quote(
  spec: ModelSpec,
  request: PricedRequest,
  overrides: PricingOverrides,
): { credits: number; breakdown: CreditBreakdown } {
  return creditBreakdown({ ...spec, pricing: pricingFor(spec, overrides) }, request);
}
