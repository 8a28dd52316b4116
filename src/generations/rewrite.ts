// The rewrite of a validated request into the upstream's body: defaults made explicit, the gateway's own
// callback URL in place of the tenant's (which the gateway keeps on `GenerationRequest.callback_url`), and
// only fields the model's registry entry supports. Built field by field, so nothing unknown can pass.
import { modelFor, supports, type ModelRegistry, type ShotType } from "../upstream/models";
import type { GenerationRequest } from "./schema";

/**
 * The upstream request body (OpenAPI `Wan26ReferenceVideoFlashRequest`): the validated request's fields, with
 * `generate_audio` only where the model takes it, `shot_type` under `model_params`, and the gateway's own
 * callback URL. A type alias, so it is a record.
 */
export type UpstreamGenerationRequest = Omit<
  GenerationRequest,
  "generate_audio" | "shot_type" | "callback_url"
> & {
  generate_audio?: boolean;
  model_params?: { shot_type: ShotType };
  callback_url?: string;
};

export interface RewriteOptions {
  /** The gateway's callback endpoint for this task; omitted from the body when undefined. */
  callbackUrl?: string;
  /** The models accepted (default: the gateway's registry). */
  models?: ModelRegistry;
}

export function toUpstreamRequest(valid: GenerationRequest, opts: RewriteOptions): UpstreamGenerationRequest {
  const spec = modelFor(valid.model, opts.models);
  const body: UpstreamGenerationRequest = {
    model: spec.id,
    prompt: valid.prompt,
    video_urls: [...valid.video_urls],
    aspect_ratio: valid.aspect_ratio,
    quality: valid.quality,
    duration: valid.duration,
  };
  if (supports(spec, "generate_audio")) body.generate_audio = valid.generate_audio;
  if (valid.shot_type !== undefined && supports(spec, "model_params.shot_type")) {
    body.model_params = { shot_type: valid.shot_type };
  }
  if (opts.callbackUrl !== undefined) body.callback_url = opts.callbackUrl;
  return body;
}
