// The shape of QUOTA_PRICING: the operator's per-model overrides of the registry's prices (JSON keyed by
// model id), parsed with the rest of the configuration. src/generations/pricing.ts applies them.
import * as z from "./zod";

// `.finite()` is left out: zod 4's number schema already refuses Infinity (classic's `.finite()` is a no-op).
const positive = z.number().check(z.positive());
const nonNegative = z.number().check(z.nonnegative());

const PricingOverrideSchema = z.strictObject({
  credits_per_second: z.optional(positive),
  quality_factor: z.optional(z.strictObject({ "720p": z.optional(positive), "1080p": z.optional(positive) })),
  silent_factor: z.optional(positive),
  input_seconds_cap: z.optional(nonNegative),
  minimum_credits: z.optional(nonNegative),
});

export const PricingOverridesSchema = z.record(
  z.string().check(z.minLength(1), z.maxLength(100)),
  PricingOverrideSchema,
);
export type PricingOverrides = z.infer<typeof PricingOverridesSchema>;
