// A tenant's policy applied to a validated request: allowed models and qualities, longest duration, audio, and the
// hosts its callback_url may point at. Violations are `403 policy_violation` naming the field, and say
// when the value at fault was a default the client never sent.
import { ApiError } from "../http/errors";
import { canonicalHost } from "../net/urls";
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

/**
 * True when `hostname` matches one of `patterns`: an exact host ("hooks.example.com"), or a wildcard
 * ("*.example.com") that matches subdomains at any depth but not "example.com" itself.
 */
export function callbackHostAllowed(hostname: string, patterns: readonly string[]): boolean {
  const host = comparable(hostname);
  if (host === undefined) return false;
  return patterns.some((pattern) => {
    const wildcard = pattern.startsWith("*.");
    const base = comparable(wildcard ? pattern.slice(2) : pattern);
    if (base === undefined) return false;
    return wildcard ? host.endsWith(`.${base}`) : host === base;
  });
}

/** True when `pattern` is a host or a "*." wildcard host that `callbackHostAllowed` can match. */
export function isCallbackHostPattern(pattern: string): boolean {
  return comparable(pattern.startsWith("*.") ? pattern.slice(2) : pattern) !== undefined;
}

/** Canonical host without a trailing dot, so "Hooks.Example.com." matches "hooks.example.com". */
function comparable(host: string): string | undefined {
  const canonical = canonicalHost(host);
  if (canonical === undefined || canonical.includes("*")) return undefined;
  return canonical.endsWith(".") ? canonical.slice(0, -1) : canonical;
}

function violation(param: string, message: string): ApiError {
  return new ApiError("policy_violation", message, { param });
}
