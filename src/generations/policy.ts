// A tenant's policy applied to a validated request: allowed models and qualities, longest duration, audio, and the
// hosts its callback_url may point at. Violations are `403 policy_violation` naming the field, and say
// when the value at fault was a default the client never sent.
import { ApiError } from "../http/errors";
import { callbackHostAllowed } from "../net/host-patterns";
import { sameHost } from "../net/urls";
import type { Tenant, TenantPolicy } from "../tenants/schema";
import type { GenerationRequest } from "./schema";

/** What of the tenant the rules read: its policy, and its webhook URL for the default callback host. */
export type PolicySubject = Pick<Tenant, "policy" | "webhook">;

export function enforcePolicy(req: GenerationRequest, tenant: PolicySubject): void {
  const policy = tenant.policy ?? {};
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
  if (req.callback_url !== undefined) checkCallbackHost(req.callback_url, policy, tenant.webhook?.url);
}

/**
 * Where a request's callback_url may point. The signed end event goes there INSTEAD of the tenant's webhook,
 * so an end user must not be able to divert it: with `callback_hosts` unset, only the host of the tenant's
 * `webhook.url`, and with neither set, nowhere. A tenant that wants any host says so with `["*"]`.
 */
function checkCallbackHost(callbackUrl: string, policy: TenantPolicy, webhookUrl: string | undefined): void {
  const host = new URL(callbackUrl).hostname;
  const hosts = policy.callback_hosts;
  if (hosts) {
    if (callbackHostAllowed(host, hosts)) return;
    throw violation(
      "callback_url",
      `callback_url host ${host} is not in this tenant's allowed callback hosts`,
    );
  }
  const webhookHost = webhookUrl === undefined ? undefined : hostOf(webhookUrl);
  if (webhookHost === undefined)
    throw violation(
      "callback_url",
      "this tenant accepts no callback_url (it has neither policy.callback_hosts nor a webhook.url)",
    );
  if (!sameHost(host, webhookHost))
    throw violation(
      "callback_url",
      `callback_url host ${host} is not the host of this tenant's webhook.url (${webhookHost}); policy.callback_hosts can allow others`,
    );
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function violation(param: string, message: string): ApiError {
  return new ApiError("policy_violation", message, { param });
}
