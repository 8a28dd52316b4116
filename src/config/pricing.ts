// The shape of QUOTA_PRICING: the operator's per-model overrides of the registry's prices (JSON keyed by
// model id), parsed with the rest of the configuration. src/generations/pricing.ts applies them.
import * as z from "zod";

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
