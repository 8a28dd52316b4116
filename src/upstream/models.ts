// The typed model registry: what each upstream model accepts, its defaults and its price. The request
// schema, the rewrite and the credit estimate read these entries, so adding a model is adding an entry.
// Prices: EvoLink's public pricing-rules catalog (upstream README §6); they may change upstream.
import { MAX_PROMPT_CODE_POINTS } from "../config/constants";

export const QUALITIES = ["720p", "1080p"] as const;
export const ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4"] as const;
export const SHOT_TYPES = ["single", "multi"] as const;
export type Quality = (typeof QUALITIES)[number];
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export type ShotType = (typeof SHOT_TYPES)[number];

/** Request fields beyond the always-required `model`, `prompt` and `video_urls`, as wire paths. */
export type OptionalField =
  "aspect_ratio" | "quality" | "duration" | "generate_audio" | "model_params.shot_type" | "callback_url";

export interface ModelPricing {
  /** Credits per billed second (input + output) at 720p with audio. */
  creditsPerSecond: number;
  /** Multiplier per quality. */
  qualityFactor: Record<Quality, number>;
  /** Multiplier when `generate_audio` is false (1 for models without the switch). */
  silentFactor: number;
  /** Input seconds billed at most; the estimate assumes the cap (reference clips are ≥ 2 s). */
  inputSecondsCap: number;
  /** Smallest charge of one task, in credits. */
  minimumCredits: number;
}

export interface ModelSpec {
  id: string;
  /** Optional request fields the model accepts; any other field is refused as unknown. */
  fields: readonly OptionalField[];
  defaults: {
    aspect_ratio: AspectRatio;
    quality: Quality;
    duration: number;
    /** Used when `generate_audio` is a supported field and the request leaves it out. */
    generate_audio: boolean;
  };
  duration: { min: number; max: number };
  qualities: readonly Quality[];
  aspectRatios: readonly AspectRatio[];
  shotTypes: readonly ShotType[];
  /** The output carries an audio track (unless `generate_audio: false` where that field is supported). */
  audio: boolean;
  /** Reference videos per request. */
  videoUrls: { min: number; max: number };
  /** Prompt length limit in Unicode code points. */
  maxPromptCodePoints: number;
  pricing: ModelPricing;
}

const QUALITY_FACTOR: Record<Quality, number> = { "720p": 1, "1080p": 1.67 };

export const WAN26_REFERENCE_VIDEO_FLASH: ModelSpec = {
  id: "wan2.6-reference-video-flash",
  fields: ["aspect_ratio", "quality", "duration", "generate_audio", "model_params.shot_type", "callback_url"],
  defaults: { aspect_ratio: "16:9", quality: "720p", duration: 5, generate_audio: true },
  duration: { min: 2, max: 10 },
  qualities: QUALITIES,
  aspectRatios: ASPECT_RATIOS,
  shotTypes: SHOT_TYPES,
  audio: true,
  videoUrls: { min: 1, max: 3 },
  maxPromptCodePoints: MAX_PROMPT_CODE_POINTS,
  pricing: {
    creditsPerSecond: 2.38,
    qualityFactor: QUALITY_FACTOR,
    silentFactor: 0.5,
    inputSecondsCap: 5,
    minimumCredits: 9,
  },
};

/**
 * The non-flash model (upstream openapi-wan2.6-reference-video.json): the same request minus the
 * `generate_audio` switch, twice the rate (4.76 credits/s, README §6) and no silent discount.
 */
export const WAN26_REFERENCE_VIDEO: ModelSpec = {
  ...WAN26_REFERENCE_VIDEO_FLASH,
  id: "wan2.6-reference-video",
  fields: ["aspect_ratio", "quality", "duration", "model_params.shot_type", "callback_url"],
  pricing: { ...WAN26_REFERENCE_VIDEO_FLASH.pricing, creditsPerSecond: 4.76, silentFactor: 1 },
};

export type ModelRegistry = ReadonlyMap<string, ModelSpec>;

/** The models the gateway accepts, by id (a tenant's `policy.allowed_models` may narrow them). */
export const MODELS: ModelRegistry = new Map([
  [WAN26_REFERENCE_VIDEO_FLASH.id, WAN26_REFERENCE_VIDEO_FLASH],
  [WAN26_REFERENCE_VIDEO.id, WAN26_REFERENCE_VIDEO],
]);

/** The registered model `id`, or undefined. */
export function findModel(id: string, registry: ModelRegistry = MODELS): ModelSpec | undefined {
  return registry.get(id);
}

/** The registered model `id`; throws when it is not (callers hold an id that already passed the schema). */
export function modelFor(id: string, registry: ModelRegistry = MODELS): ModelSpec {
  const spec = registry.get(id);
  if (!spec) throw new Error(`model ${JSON.stringify(id)} is not registered`);
  return spec;
}

export function supports(spec: ModelSpec, field: OptionalField): boolean {
  return spec.fields.includes(field);
}

/** What the estimate needs from a validated request. */
export interface PricedRequest {
  quality: Quality;
  duration: number;
  generate_audio: boolean;
}

/**
 * The estimate's terms as POST /v1/videos/generations/estimate shows them: `credits` is
 * `max(minimum_credits, round(billed_seconds × credits_per_second × quality_factor × audio_factor))`.
 */
export interface CreditBreakdown {
  model: string;
  credits_per_second: number;
  /** The model's input cap: the estimate assumes reference clips at least that long, however many. */
  input_seconds: number;
  output_seconds: number;
  billed_seconds: number;
  quality: Quality;
  quality_factor: number;
  generate_audio: boolean;
  /** 1 with audio, the model's silent factor without. */
  audio_factor: number;
  /** The product, rounded half-up to 2 decimals, before the minimum charge. */
  subtotal: number;
  minimum_credits: number;
}

/**
 * Credits the upstream will charge at most for one task: (input cap + output seconds) × rate ×
 * quality factor × silent factor, rounded half-up to 2 decimals, never below the minimum charge.
 */
export function estimateCredits(spec: ModelSpec, request: PricedRequest): number {
  return creditBreakdown(spec, request).credits;
}

/** The estimate and every term it multiplies (the one place the formula lives). */
export function creditBreakdown(
  spec: ModelSpec,
  request: PricedRequest,
): { credits: number; breakdown: CreditBreakdown } {
  const p = spec.pricing;
  const seconds = p.inputSecondsCap + request.duration;
  const silent = request.generate_audio ? 1 : p.silentFactor;
  const quality = p.qualityFactor[request.quality];
  const subtotal = roundHalfUp2(seconds * p.creditsPerSecond * quality * silent);
  return {
    credits: Math.max(subtotal, p.minimumCredits),
    breakdown: {
      model: spec.id,
      credits_per_second: p.creditsPerSecond,
      input_seconds: p.inputSecondsCap,
      output_seconds: request.duration,
      billed_seconds: seconds,
      quality: request.quality,
      quality_factor: quality,
      generate_audio: request.generate_audio,
      audio_factor: silent,
      subtotal,
      minimum_credits: p.minimumCredits,
    },
  };
}

/** Half-up to 2 decimals, after trimming binary floating-point noise (2.38 × 1.67 is not exact). */
function roundHalfUp2(x: number): number {
  const cents = Number((x * 100).toPrecision(12));
  return Math.round(cents) / 100;
}
