// The documented prose rules of POST /v1/videos/generations (README §1), checked on every request whether
// or not the OpenAPI files are at hand. Stricter than the schema on purpose: unknown fields are refused, so
// a gateway that forwards anything it was not meant to forward fails its tests here.
import type { CreateBody } from "./types";
import { callbackUrlProblem, parseHttpUrl } from "./urls";

export const MODEL = "wan2.6-reference-video-flash";
export const NON_FLASH_MODEL = "wan2.6-reference-video";
/** The models served; only the flash model has the `generate_audio` switch (its OpenAPI file has it). */
export const MODELS: Record<string, { audioSwitch: boolean }> = {
  [MODEL]: { audioSwitch: true },
  [NON_FLASH_MODEL]: { audioSwitch: false },
};
export const ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4"] as const;
export const QUALITIES = ["720p", "1080p"] as const;
export const SHOT_TYPES = ["single", "multi"] as const;
export const MAX_PROMPT_LENGTH = 1500;
export const MAX_VIDEO_URLS = 3;
export const MIN_DURATION_S = 2;
export const MAX_DURATION_S = 10;

const TOP_LEVEL_FIELDS = new Set([
  "model",
  "prompt",
  "video_urls",
  "aspect_ratio",
  "quality",
  "duration",
  "model_params",
  "generate_audio",
  "callback_url",
]);
const MODEL_PARAMS_FIELDS = new Set(["shot_type"]);

type Check = (body: Record<string, unknown>, allowLocalCallbacks: boolean) => string[];

const checks: Check[] = [
  (b) =>
    Object.keys(b)
      .filter((k) => !TOP_LEVEL_FIELDS.has(k) || (k === "generate_audio" && !hasAudioSwitch(b.model)))
      .map((k) => `unknown field ${k}`),
  (b) =>
    typeof b.model === "string" && Object.hasOwn(MODELS, b.model)
      ? []
      : [`model must be one of ${Object.keys(MODELS).join(", ")}`],
  (b) => checkPrompt(b.prompt),
  (b) => checkVideoUrls(b.video_urls),
  (b) => oneOf("aspect_ratio", b.aspect_ratio, ASPECT_RATIOS),
  (b) => oneOf("quality", b.quality, QUALITIES),
  (b) => checkDuration(b.duration),
  (b) => checkModelParams(b.model_params),
  (b) =>
    b.generate_audio === undefined || typeof b.generate_audio === "boolean"
      ? []
      : ["generate_audio must be true or false"],
  (b, allowLocal) => checkCallbackUrl(b.callback_url, allowLocal),
];

function hasAudioSwitch(model: unknown): boolean {
  return typeof model !== "string" || MODELS[model]?.audioSwitch !== false;
}

/** Every prose-rule problem of `body`; empty when it is an acceptable create request. */
export function checkCreateBody(body: unknown, allowLocalCallbacks: boolean): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return ["body must be a JSON object"];
  const record = body as Record<string, unknown>;
  return checks.flatMap((check) => check(record, allowLocalCallbacks));
}

/** Narrows a body that passed `checkCreateBody`. */
export function asCreateBody(body: unknown): CreateBody {
  return body as CreateBody;
}

function checkPrompt(prompt: unknown): string[] {
  if (typeof prompt !== "string" || prompt.length === 0) return ["prompt is required and must be a string"];
  const length = [...prompt].length;
  return length > MAX_PROMPT_LENGTH
    ? [`prompt must be at most ${MAX_PROMPT_LENGTH} characters (got ${length})`]
    : [];
}

function checkVideoUrls(urls: unknown): string[] {
  if (!Array.isArray(urls)) return ["video_urls is required and must be an array of URLs"];
  if (urls.length < 1 || urls.length > MAX_VIDEO_URLS)
    return [`video_urls must hold 1 to ${MAX_VIDEO_URLS} URLs (got ${urls.length})`];
  return urls.flatMap((u, i) =>
    typeof u === "string" && parseHttpUrl(u) ? [] : [`video_urls[${i}] must be an http or https URL`],
  );
}

function oneOf(field: string, value: unknown, allowed: readonly string[]): string[] {
  if (value === undefined) return [];
  return typeof value === "string" && allowed.includes(value)
    ? []
    : [`${field} must be one of ${allowed.join(", ")}`];
}

function checkDuration(duration: unknown): string[] {
  if (duration === undefined) return [];
  const ok =
    Number.isInteger(duration) &&
    (duration as number) >= MIN_DURATION_S &&
    (duration as number) <= MAX_DURATION_S;
  return ok ? [] : [`duration must be an integer from ${MIN_DURATION_S} to ${MAX_DURATION_S}`];
}

function checkModelParams(params: unknown): string[] {
  if (params === undefined) return [];
  if (typeof params !== "object" || params === null || Array.isArray(params))
    return ["model_params must be an object"];
  const record = params as Record<string, unknown>;
  const unknown = Object.keys(record)
    .filter((k) => !MODEL_PARAMS_FIELDS.has(k))
    .map((k) =>
      k === "generate_audio"
        ? "unknown field model_params.generate_audio (generate_audio is a top-level field)"
        : `unknown field model_params.${k}`,
    );
  return [...unknown, ...oneOf("model_params.shot_type", record.shot_type, SHOT_TYPES)];
}

function checkCallbackUrl(url: unknown, allowLocal: boolean): string[] {
  if (url === undefined) return [];
  if (typeof url !== "string") return ["callback_url must be a string"];
  const problem = callbackUrlProblem(url, allowLocal);
  return problem ? [problem] : [];
}
