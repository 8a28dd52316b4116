// OpenAPI operation of src/generations/catalog.ts: GET /v1/models.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { PricingOverridesSchema } from "../config/pricing";
import { modelView } from "./catalog";
import { WAN26_REFERENCE_VIDEO_FLASH } from "../upstream/models";

const Values = z.object({ values: z.array(z.string()), default: z.string() });

const ModelSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  parameters: z.object({
    prompt: z.object({ max_length: z.int().describe("Unicode code points.") }),
    video_urls: z.object({ min_items: z.int(), max_items: z.int() }),
    aspect_ratio: Values,
    quality: Values,
    duration: z.object({ min: z.int(), max: z.int(), default: z.int() }),
    generate_audio: z
      .object({ default: z.boolean() })
      .nullable()
      .describe("null: the model has no audio switch."),
    shot_type: z
      .object({ values: z.array(z.string()) })
      .nullable()
      .describe("`model_params.shot_type`."),
    callback_url: z.boolean(),
  }),
  pricing: z
    .object({
      billing_rule: z.literal("per_second"),
      unit: z.literal("input_plus_output_second"),
      credits_per_second: z.number().describe("At 720p (with audio where the model has the switch)."),
      quality_factor: z.record(z.string(), z.number()),
      silent_factor: z.number().nullable().describe("Multiplier with `generate_audio: false`."),
      input_seconds_cap: z.number().describe("Reference seconds billed at most."),
      minimum_credits: z.number(),
    })
    .describe(
      "Estimate = max(minimum, (input_seconds_cap + duration) × credits_per_second × quality_factor × silent_factor).",
    ),
});

// Keeps the example honest: it is the catalog's own view of the flash model, without price overrides.
const EXAMPLE = modelView(WAN26_REFERENCE_VIDEO_FLASH, PricingOverridesSchema.parse({}));

export const catalogOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/models",
    operationId: "listModels",
    summary: "List the models you may use",
    description: "The registered models your tenant's policy allows, with their parameters and price basis.",
    tag: "Models",
    security: "tenant",
    responses: {
      200: {
        description: "The models.",
        schema: z.object({ object: z.literal("list"), data: z.array(ModelSchema) }),
        example: { object: "list", data: [EXAMPLE] },
      },
    },
    errors: [],
  },
];
