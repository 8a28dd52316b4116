// OpenAPI operation of src/generations/routes.ts: creating a generation task (POST /v1/videos/generations).
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
      schema: {
        oneOf: [...MODELS.values()].map(requestBody),
        discriminator: { propertyName: "model" },
      },
      examples: {
        flash: {
          summary: "Flash model, 5 s at 720p with audio",
          value: {
            model: "wan2.6-reference-video-flash",
            prompt: "A person dancing in the rain",
            video_urls: ["https://cdn.example.com/reference.mp4"],
            duration: 5,
            quality: "720p",
            generate_audio: true,
          },
        },
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
];
