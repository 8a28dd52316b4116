// GET /v1/models: the models the caller's tenant may use (the registry narrowed by `policy.allowed_models`),
// each with the parameters its requests take and the basis of its price, under the operator's pricing.
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import type { PricingOverrides } from "../config/pricing";
import { pricingFor } from "./pricing";
import type { TenantPolicy } from "../tenants/schema";
import { MODELS, supports, type ModelRegistry, type ModelSpec } from "../upstream/models";

/** The registered models a tenant's policy allows (all of them without `allowed_models`). */
export function modelsFor(policy: TenantPolicy | undefined, registry: ModelRegistry = MODELS): ModelSpec[] {
  const allowed = policy?.allowed_models;
  return [...registry.values()].filter((spec) => !allowed || allowed.includes(spec.id));
}

export function modelView(spec: ModelSpec, overrides: PricingOverrides) {
  const p = pricingFor(spec, overrides);
  const audio = supports(spec, "generate_audio");
  return {
    id: spec.id,
    object: "model" as const,
    parameters: {
      prompt: { max_length: spec.maxPromptCodePoints },
      video_urls: { min_items: spec.videoUrls.min, max_items: spec.videoUrls.max },
      aspect_ratio: { values: [...spec.aspectRatios], default: spec.defaults.aspect_ratio },
      quality: { values: [...spec.qualities], default: spec.defaults.quality },
      duration: { min: spec.duration.min, max: spec.duration.max, default: spec.defaults.duration },
      generate_audio: audio ? { default: spec.defaults.generate_audio } : null,
      shot_type: supports(spec, "model_params.shot_type") ? { values: [...spec.shotTypes] } : null,
      callback_url: supports(spec, "callback_url"),
    },
    pricing: {
      billing_rule: "per_second" as const,
      unit: "input_plus_output_second" as const,
      credits_per_second: p.creditsPerSecond,
      quality_factor: p.qualityFactor,
      silent_factor: audio ? p.silentFactor : null,
      input_seconds_cap: p.inputSecondsCap,
      minimum_credits: p.minimumCredits,
    },
  };
}

export const modelRoutes = new Hono<TenantEnv>();

modelRoutes.get("/models", (c) => {
  const { tenant } = c.get("principal");
  const overrides = c.get("config").pricing;
  return c.json({ object: "list", data: modelsFor(tenant.policy).map((spec) => modelView(spec, overrides)) });
});
