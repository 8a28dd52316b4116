// A tenant's policy applied to a validated request: allowed models and qualities, longest duration, audio, and the
// hosts its callback_url may point at. Violations are `403 policy_violation` naming the field, and say
// when the value at fault was a default the client never sent.
import { ApiError } from "../http/errors";
import { callbackHostAllowed } from "../net/host-patterns";
import type { TenantPolicy } from "../tenants/schema";
import type { GenerationRequest } from "./schema";

export function enforcePolicy(req: GenerationRequest, policy: TenantPolicy | undefined): void {
  if (!policy) return;
  const models = policy.allowed_models;
  if (models && !models.includes(req.model)) {
    throw violation(
      "model",
      `model ${req.model} is not allowed for this tenant (allowed: ${models.join(", ")})`,
    );
  }
  const allowed = policy.allowed_qualities;
  if (allowed && !allowed.includes(req.quality)) {
    throw violation(
      "quality",
      `quality ${req.quality} is not allowed for this tenant (allowed: ${allowed.join(", ")})`,
    );
  }
  if (policy.max_duration !== undefined && req.duration > policy.max_duration) {
    throw violation(
      "duration",
      `duration ${req.duration} exceeds this tenant's maximum of ${policy.max_duration} seconds`,
    );
  }
  if (policy.allow_audio === false && req.generate_audio) {
    throw violation(
      "generate_audio",
      "this tenant does not allow audio: send generate_audio: false (the default is true)",
    );
  }
  const hosts = policy.callback_hosts;
  if (hosts && req.callback_url !== undefined) {
    const host = new URL(req.callback_url).hostname;
    if (!callbackHostAllowed(host, hosts)) {
      throw violation(
        "callback_url",
        `callback_url host ${host} is not in this tenant's allowed callback hosts`,
      );
    }
  }
}

function violation(param: string, message: string): ApiError {
  return new ApiError("policy_violation", message, { param });
}
