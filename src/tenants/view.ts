// What the admin API shows of a tenant: everything but secrets. A generated webhook secret is shown once,
// in the response of the write that created it.
import type { Tenant } from "./schema";

export function keySource(t: Tenant): "jwks" | "jwks_uri" | "hs256_secret" {
  return t.auth.jwks ? "jwks" : t.auth.jwks_uri ? "jwks_uri" : "hs256_secret";
}

export function tenantView(t: Tenant, reveal: { webhookSecret?: string } = {}): Record<string, unknown> {
  const { hs256_secret: _secret, ...auth } = t.auth;
  return {
    id: t.id,
    incarnation: t.incarnation,
    version: t.version,
    name: t.name,
    status: t.status,
    auth: { ...auth, key_source: keySource(t) },
    ...(t.policy ? { policy: t.policy } : {}),
    ...(t.quotas ? { quotas: t.quotas } : {}),
    ...(t.user_quotas ? { user_quotas: t.user_quotas } : {}),
    ...(t.results ? { results: t.results } : {}),
    webhook: webhookView(t, reveal),
    portal: {
      frame_ancestors: t.portal?.frame_ancestors ?? [],
      links_valid_after:
        t.portal?.links_valid_after === undefined ? null : new Date(t.portal.links_valid_after).toISOString(),
    },
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** The webhook as the admin API and the tenant portal show it: the URL, whether a secret is set, the overlap. */
export function webhookView(t: Tenant, reveal: { webhookSecret?: string } = {}) {
  return {
    url: t.webhook?.url ?? null,
    secret_set: Boolean(t.webhook?.secret),
    ...(t.webhook?.max_per_second ? { max_per_second: t.webhook.max_per_second } : {}),
    ...(t.webhook?.previous_expires_at
      ? { previous_secret_expires_at: new Date(t.webhook.previous_expires_at).toISOString() }
      : {}),
    ...(reveal.webhookSecret ? { secret: reveal.webhookSecret } : {}),
  };
}

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
