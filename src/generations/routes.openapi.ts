// OpenAPI operations of src/generations/routes.ts: creating a generation task (POST /v1/videos/generations)
// and its estimate (POST /v1/videos/generations/estimate), which takes the same body.
import * as z from "zod";
import { jsonSchema } from "../openapi/json-schema";
import type { OperationSpec } from "../openapi/registry";
import { TASK_EXAMPLE, TaskViewSchema } from "../tasks/present.openapi";
import { UPSTREAM_ERRORS } from "../upstream/errors.openapi";
import { MODELS, type ModelSpec } from "../upstream/models";
import { wireSchema } from "./schema";

/** One model's request body: the strict zod schema the gateway parses with, plus what zod cannot express. */
function requestBody(spec: ModelSpec): Record<string, unknown> {
  const schema = jsonSchema(wireSchema(spec), "input") as {
    properties: Record<string, Record<string, unknown>>;
  };
  const p = schema.properties;
  p.model = {
    const: spec.id,
    description: "The model; see GET /v1/models for the ones your tenant may use.",
  };
  p.prompt = {
    ...p.prompt,
    maxLength: spec.maxPromptCodePoints,
    description: `What to generate: 1 to ${spec.maxPromptCodePoints} Unicode code points, not blank.`,
  };
  p.video_urls = {
    ...p.video_urls,
    items: { type: "string", format: "uri", maxLength: 2048 },
    description:
      "Reference clips (mp4/mov, 2–30 s, ≤ 100 MB each): public http(s) URLs, or this gateway's own file URLs (POST /api/v1/files/upload/*) as it returned them, for the caller's own files.",
  };
  if (p.duration)
    p.duration = { ...p.duration, default: spec.defaults.duration, description: "Output seconds." };
  if (p.quality) p.quality = { ...p.quality, default: spec.defaults.quality };
  if (p.aspect_ratio) p.aspect_ratio = { ...p.aspect_ratio, default: spec.defaults.aspect_ratio };
  if (p.generate_audio)
    p.generate_audio = {
      ...p.generate_audio,
      default: spec.defaults.generate_audio,
      description: "Silent output costs half.",
    };
  if (p.callback_url)
    p.callback_url = {
      ...p.callback_url,
      format: "uri",
      maxLength: 2048,
      description:
        "Your HTTPS endpoint for this task's task-ended webhook (signed; see `webhooks.taskEnded`). Its host must be in the tenant's `policy.callback_hosts`, or, when that is unset, be the host of the tenant's `webhook.url` (403 `policy_violation` otherwise).",
    };
  return { title: spec.id, ...schema };
}

const GENERATION_BODY = {
  oneOf: [...MODELS.values()].map(requestBody),
  discriminator: { propertyName: "model" },
};

const REFUSALS = ["rate_limit_exceeded", "concurrency_limit_exceeded", "insufficient_quota"] as const;

const EstimateSchema = z.object({
  credits: z
    .number()
    .describe(
      "What a generation created now with this body reserves (`usage.credits_reserved`); what it is charged at the end is the upstream's figure, at most this.",
    ),
  breakdown: z
    .object({
      model: z.string(),
      credits_per_second: z.number().describe("The model's rate at 720p with audio."),
      input_seconds: z
        .number()
        .describe(
          "Input seconds billed: the model's cap, whatever the number and length of the reference clips.",
        ),
      output_seconds: z.number().describe("`duration`, or the model's default."),
      billed_seconds: z.number().describe("input_seconds + output_seconds."),
      quality: z.enum(["720p", "1080p"]),
      quality_factor: z.number(),
      generate_audio: z.boolean(),
      audio_factor: z.number().describe("1 with audio; the model's silent factor without."),
      subtotal: z
        .number()
        .describe(
          "billed_seconds × credits_per_second × quality_factor × audio_factor, rounded half-up to 2 decimals.",
        ),
      minimum_credits: z.number().describe("The smallest charge of one task: credits = max(subtotal, this)."),
      reference_videos: z.int().describe("Reference clips in the request (they do not change the estimate)."),
    })
    .describe("The terms `credits` is the product of, under the operator's prices."),
  admissible: z
    .boolean()
    .describe(
      "Whether a generation with this body would be admitted now by your tenant's and your user's quotas.",
    ),
  reason: z
    .enum(REFUSALS)
    .nullable()
    .describe("The error code the generation would be refused with (429 or 402), or null when admissible."),
  details: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      "That refusal's `error.details` (scope, limit, figures, retry_after_seconds or reset_at), or null.",
    ),
});

/** A generation body, the example both the creation and its estimate show. */
const FLASH_EXAMPLE = {
  summary: "Flash model, 5 s at 720p with audio",
  value: {
    model: "wan2.6-reference-video-flash",
    prompt: "A person dancing in the rain",
    video_urls: ["https://cdn.example.com/reference.mp4"],
    duration: 5,
    quality: "720p",
    generate_audio: true,
  },
};

export const generationOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "post",
    path: "/v1/videos/generations",
    operationId: "createVideoGeneration",
    summary: "Create a video generation task",
    description:
      "Validates the body against the model's schema and your tenant's policy, estimates its credits, admits it under your tenant's and your user's quotas, and forwards it to EvoLink. Answers with the task (poll GET /v1/tasks/{task_id}, or wait for the webhook).",
    tag: "Tasks",
    security: "tenant",
    idempotencyKey: true,
    body: {
      schema: GENERATION_BODY,
      examples: {
        flash: FLASH_EXAMPLE,
        nonFlash: {
          summary: "Non-flash model, multi-shot at 1080p",
          value: {
            model: "wan2.6-reference-video",
            prompt: "A short story in three shots",
            video_urls: ["https://cdn.example.com/reference.mp4"],
            quality: "1080p",
            model_params: { shot_type: "multi" },
          },
        },
      },
    },
    responses: {
      200: {
        description: "The task was created (or, with a repeated Idempotency-Key, the first answer replayed).",
        schema: TaskViewSchema,
        headers: ["RateLimit-Policy", "RateLimit", "Idempotency-Replayed"],
        example: TASK_EXAMPLE,
      },
    },
    errors: [
      "invalid_request",
      "policy_violation",
      "insufficient_quota",
      "idempotency_conflict",
      "payload_too_large",
      "unsupported_media_type",
      "rate_limit_exceeded",
      "concurrency_limit_exceeded",
      ...UPSTREAM_ERRORS,
    ],
  },
  {
    api: "tenant",
    method: "post",
    path: "/v1/videos/generations/estimate",
    operationId: "estimateVideoGeneration",
    summary: "Estimate a video generation before creating it",
    description:
      "Takes the body of POST /v1/videos/generations and runs the same checks without creating anything: the schema and your tenant's policy (the same 400/403 errors), the price, and the admission under your tenant's and your user's quotas, asked of the current counters — nothing is reserved and EvoLink is not called. A quota that would refuse the generation is an answer (`admissible: false`, `reason` = its error code), not an error, so a client can show the price and disable its button. `credits` equals the `usage.credits_reserved` of a generation created right after with the same body. Counts as a read (the read limits), not against `requests_per_minute`. Idempotency-Key is ignored: the estimate is of a new request.",
    tag: "Tasks",
    security: "tenant",
    body: {
      schema: GENERATION_BODY,
      examples: {
        flash: FLASH_EXAMPLE,
      },
    },
    responses: {
      200: {
        description: "The estimate, and whether your quotas would admit the generation now.",
        schema: EstimateSchema,
        example: {
          credits: 23.8,
          breakdown: {
            model: "wan2.6-reference-video-flash",
            credits_per_second: 2.38,
            input_seconds: 5,
            output_seconds: 5,
            billed_seconds: 10,
            quality: "720p",
            quality_factor: 1,
            generate_audio: true,
            audio_factor: 1,
            subtotal: 23.8,
            minimum_credits: 9,
            reference_videos: 1,
          },
          admissible: false,
          reason: "insufficient_quota",
          details: {
            scope: "user",
            limit: "monthly_credits",
            total_limit_credits: 50,
            used_credits: 30,
            reserved_credits: 0,
            remaining_credits: 20,
            estimated_credits: 23.8,
            reset_at: "2026-12-01T00:00:00.000Z",
            reset_timezone: "UTC",
          },
        },
      },
    },
    errors: [
      "invalid_request",
      "policy_violation",
      "payload_too_large",
      "unsupported_media_type",
      "rate_limit_exceeded",
    ],
  },
];
