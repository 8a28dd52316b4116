// The body of POST /v1/videos/generations, validated before anything is forwarded: a strict zod schema
// built from the model's registry entry (unknown fields refused), then the URL rules, then defaults.
// Returns one normalized `GenerationRequest`, or throws one ApiError naming the first bad field.
import * as z from "../config/zod";
import { ApiError } from "../http/errors";
import { checkGatewayUrl, checkVideoUrl } from "../net/urls";
import { invalid, issueToError, describe } from "./issues";
import {
  MODELS,
  supports,
  type AspectRatio,
  type ModelRegistry,
  type ModelSpec,
  type Quality,
  type ShotType,
} from "../upstream/models";

/** A validated request with every default made explicit. */
export interface GenerationRequest {
  model: string;
  /** 1..1500 Unicode code points. */
  prompt: string;
  /** Canonical (`URL.href`) http(s) URLs. */
  video_urls: string[];
  aspect_ratio: AspectRatio;
  quality: Quality;
  /** Output seconds. */
  duration: number;
  /** Whether the output has audio: the request's `generate_audio` (either spelling) or the default. */
  generate_audio: boolean;
  shot_type?: ShotType;
  /** The tenant's own callback URL (canonical https), kept by the gateway; never sent upstream. */
  callback_url?: string;
}

export interface ParseOptions {
  /** DEV_ALLOW_LOCAL_URLS: loopback URLs (localhost, 127.0.0.0/8, [::1]) are accepted, over http too. */
  allowLocalUrls: boolean;
  /**
   * PUBLIC_BASE_URL: video_urls on this origin are accepted whatever its address (a loopback one in local
   * development), because the caller then holds each of them to be one of its signed file URLs
   * (src/files/ownership.ts, which must run on every request parsed with this option).
   */
  publicBaseUrl?: string;
  /** The models accepted (default: the gateway's registry). */
  models?: ModelRegistry;
}

/** The strict wire shape; every field past the required three is optional here and defaulted later. */
interface WireRequest {
  model: string;
  prompt: string;
  video_urls: string[];
  aspect_ratio?: AspectRatio;
  quality?: Quality;
  duration?: number;
  generate_audio?: boolean;
  model_params?: { shot_type?: ShotType; generate_audio?: boolean };
  callback_url?: string;
}

/** Validates and normalizes a parsed JSON body. Throws `400 invalid_request` naming the field. */
export function parseGenerationRequest(body: unknown, opts: ParseOptions): GenerationRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError("invalid_request", `Request body must be a JSON object, got ${describe(body)}`);
  }
  const spec = resolveModel((body as Record<string, unknown>).model, opts.models ?? MODELS);
  const parsed = wireSchema(spec).safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw first
      ? issueToError(first, body, (path) => knownFields(spec, path))
      : new ApiError("invalid_request", "Invalid request");
  }
  return normalize(spec, parsed.data, opts);
}

function resolveModel(model: unknown, models: ModelRegistry): ModelSpec {
  const ids = [...models.keys()].map((id) => JSON.stringify(id)).join(", ");
  if (model === undefined) throw invalid("model", `model is required (one of ${ids})`);
  const spec = typeof model === "string" ? models.get(model) : undefined;
  if (!spec) throw invalid("model", `model must be one of ${ids}, got ${describe(model)}`);
  return spec;
}

function normalize(spec: ModelSpec, wire: WireRequest, opts: ParseOptions): GenerationRequest {
  const own = opts.publicBaseUrl === undefined ? {} : { ownOrigin: opts.publicBaseUrl };
  const videoUrls = wire.video_urls.map((raw, i) => {
    const check = checkVideoUrl(raw, own);
    if (!check.ok) throw invalid(`video_urls[${i}]`, `video_urls[${i}] ${check.reason}`);
    return check.url.href;
  });
  const request: GenerationRequest = {
    model: spec.id,
    prompt: wire.prompt,
    video_urls: videoUrls,
    aspect_ratio: wire.aspect_ratio ?? spec.defaults.aspect_ratio,
    quality: wire.quality ?? spec.defaults.quality,
    duration: wire.duration ?? spec.defaults.duration,
    generate_audio: spec.audio && audioSwitch(spec, wire),
  };
  const shotType = wire.model_params?.shot_type;
  if (shotType !== undefined) request.shot_type = shotType;
  if (wire.callback_url !== undefined) {
    const check = checkGatewayUrl(wire.callback_url, { allowLocal: opts.allowLocalUrls });
    if (!check.ok) throw invalid("callback_url", `callback_url ${check.reason}`);
    request.callback_url = check.url.href;
  }
  return request;
}

/** `generate_audio`, also accepted as `model_params.generate_audio`; both spellings must agree. */
function audioSwitch(spec: ModelSpec, wire: WireRequest): boolean {
  if (!supports(spec, "generate_audio")) return true;
  const top = wire.generate_audio;
  const nested = wire.model_params?.generate_audio;
  if (top !== undefined && nested !== undefined && top !== nested) {
    throw invalid(
      "model_params.generate_audio",
      `model_params.generate_audio (${nested}) contradicts generate_audio (${top}); send it once, at the top level`,
    );
  }
  return top ?? nested ?? spec.defaults.generate_audio;
}

const schemas = new WeakMap<ModelSpec, z.ZodMiniType<WireRequest>>();

/** The strict zod schema of `spec`'s wire request; fields the model lacks are simply not in it. */
export function wireSchema(spec: ModelSpec): z.ZodMiniType<WireRequest> {
  const cached = schemas.get(spec);
  if (cached) return cached;
  const has = (field: Parameters<typeof supports>[1]) => supports(spec, field);
  const modelParams = {
    ...(has("model_params.shot_type") ? { shot_type: z.optional(z.enum(spec.shotTypes)) } : {}),
    ...(has("generate_audio") ? { generate_audio: z.optional(z.boolean()) } : {}),
  };
  const shape = {
    model: z.string(),
    prompt: z.string().check(z.superRefine(promptCheck(spec.maxPromptCodePoints))),
    video_urls: z.array(z.string()).check(z.minLength(spec.videoUrls.min), z.maxLength(spec.videoUrls.max)),
    ...(has("aspect_ratio") ? { aspect_ratio: z.optional(z.enum(spec.aspectRatios)) } : {}),
    ...(has("quality") ? { quality: z.optional(z.enum(spec.qualities)) } : {}),
    ...(has("duration")
      ? { duration: z.optional(z.int().check(z.gte(spec.duration.min), z.lte(spec.duration.max))) }
      : {}),
    ...(has("generate_audio") ? { generate_audio: z.optional(z.boolean()) } : {}),
    ...(Object.keys(modelParams).length ? { model_params: z.optional(z.strictObject(modelParams)) } : {}),
    ...(has("callback_url") ? { callback_url: z.optional(z.string()) } : {}),
  };
  // The conditional spreads widen the inferred type; WireRequest is the shape they add up to.
  const schema = z.strictObject(shape) as unknown as z.ZodMiniType<WireRequest>;
  schemas.set(spec, schema);
  return schema;
}

/** Prompt length in Unicode code points (an emoji is one), not UTF-16 units; blank is refused too. */
function promptCheck(max: number) {
  return (value: string, ctx: z.core.$RefinementCtx<string>) => {
    const problem = promptProblem(value, max);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };
}

function promptProblem(value: string, max: number): string | undefined {
  const length = [...value].length;
  if (length > max) return `prompt must be at most ${max} characters (Unicode code points), got ${length}`;
  if (value.trim() === "") return "prompt must not be empty or blank";
  if (/\p{Surrogate}/u.test(value)) return "prompt must be valid Unicode (it holds an unpaired surrogate)";
  return undefined;
}

/** Field names accepted at `path`, for "did you mean" hints. */
function knownFields(spec: ModelSpec, path: readonly PropertyKey[]): readonly string[] {
  // wireSchema builds a strict object; it is typed as ZodMiniType<WireRequest> only for its callers.
  const shape = (wireSchema(spec) as unknown as z.ZodMiniObject).shape;
  if (path.length === 0) return Object.keys(shape);
  const nested = path.length === 1 && path[0] === "model_params" ? shape.model_params : undefined;
  const inner = nested instanceof z.ZodMiniOptional ? nested.def.innerType : undefined;
  return inner instanceof z.ZodMiniObject ? Object.keys(inner.shape) : [];
}
