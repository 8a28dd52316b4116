// The pure merges behind every tenant write, called by the Registry (the only writer) against its own
// authoritative record: an admin PUT over the existing record, a webhook-secret rotation. No I/O, no clock,
// no randomness: the Registry passes `now` and any fresh secret or incarnation in.
import { WEBHOOK_SECRET_OVERLAP_MS } from "../config/constants";
import type { Tenant, TenantInput } from "./schema";

/** What the Registry decides for a write, outside the client's input. */
export interface WriteStamp {
  incarnation: string;
  version: number;
  now: number;
}

/**
 * The record an admin PUT produces: the input replaces every client field; `created_at`, the incarnation
 * and (unless the input names one) the webhook secret and its rotation state carry over. `freshSecret` is
 * used only when neither the input nor the existing record has a secret; `generated` says if it was.
 */
export function buildRecord(
  id: string,
  input: TenantInput,
  existing: Tenant | null,
  stamp: WriteStamp,
  freshSecret: string,
): { record: Tenant; generated: string | undefined } {
  const generated = (input.webhook?.secret ?? existing?.webhook?.secret) ? undefined : freshSecret;
  const keepRotation = existing?.webhook && !input.webhook?.secret;
  const at = new Date(stamp.now).toISOString();
  const record: Tenant = {
    id,
    incarnation: stamp.incarnation,
    version: stamp.version,
    name: input.name,
    status: input.status,
    auth: input.auth,
    ...(input.policy ? { policy: input.policy } : {}),
    ...(input.quotas ? { quotas: input.quotas } : {}),
    ...(input.user_quotas ? { user_quotas: input.user_quotas } : {}),
    ...(input.results ? { results: input.results } : {}),
    webhook: {
      ...(keepRotation ? existing.webhook : {}),
      ...(input.webhook?.url ? { url: input.webhook.url } : {}),
      secret: input.webhook?.secret ?? existing?.webhook?.secret ?? generated!,
      ...(input.webhook?.max_per_second ? { max_per_second: input.webhook.max_per_second } : {}),
    },
    ...portalOf(input, existing),
    created_at: existing?.created_at ?? at,
    updated_at: at,
  };
  if (!input.webhook?.url) delete record.webhook!.url;
  // A client field like any other: what the input says, not what the existing record had.
  if (!input.webhook?.max_per_second) delete record.webhook!.max_per_second;
  return { record, generated };
}

/** The portal block of a PUT: the input's framing origins, and the revocation time, which only revoking sets. */
function portalOf(input: TenantInput, existing: Tenant | null): Pick<Tenant, "portal"> {
  const validAfter = existing?.portal?.links_valid_after;
  const portal = {
    ...(input.portal?.frame_ancestors?.length ? { frame_ancestors: input.portal.frame_ancestors } : {}),
    ...(validAfter !== undefined ? { links_valid_after: validAfter } : {}),
  };
  return Object.keys(portal).length ? { portal } : {};
}

/** The record with every portal link issued until `stamp.now` revoked (src/portal). */
export function portalRevoked(tenant: Tenant, stamp: Omit<WriteStamp, "incarnation">): Tenant {
  return {
    ...tenant,
    version: stamp.version,
    portal: { ...tenant.portal, links_valid_after: stamp.now },
    updated_at: new Date(stamp.now).toISOString(),
  };
}

/** The record with a new webhook URL (a portal token's `edit_webhook`); the secret and its rotation stay. */
export function withWebhookUrl(tenant: Tenant, url: string, stamp: Omit<WriteStamp, "incarnation">): Tenant {
  return {
    ...tenant,
    version: stamp.version,
    webhook: { ...tenant.webhook!, url },
    updated_at: new Date(stamp.now).toISOString(),
  };
}

/** The rotated record: a new current secret; the old one keeps signing for WEBHOOK_SECRET_OVERLAP_MS. */
export function rotated(tenant: Tenant, secret: string, stamp: Omit<WriteStamp, "incarnation">): Tenant {
  const previous = tenant.webhook?.secret;
  return {
    ...tenant,
    version: stamp.version,
    webhook: {
      ...(tenant.webhook?.url ? { url: tenant.webhook.url } : {}),
      ...(tenant.webhook?.max_per_second ? { max_per_second: tenant.webhook.max_per_second } : {}),
      secret,
      ...(previous
        ? { previous_secret: previous, previous_expires_at: stamp.now + WEBHOOK_SECRET_OVERLAP_MS }
        : {}),
    },
    updated_at: new Date(stamp.now).toISOString(),
  };
}

/** A tenant incarnation: 16 random base32 characters (80 bits), set once when the tenant is created. */
export function newIncarnation(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => alphabet[b & 31]).join("");
}
