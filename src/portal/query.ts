// The bodies the tenant portal's routes accept, as zod schemas: the routes parse with them and the OpenAPI
// documents are generated from them (./routes.openapi.ts).
import { PORTAL_LINK_DEFAULT_TTL_SECONDS, PORTAL_LINK_MAX_TTL_SECONDS } from "../config/constants";
import * as z from "../config/zod";
import { CAPABILITIES } from "./token";

/** POST /admin/tenants/{tenant_id}/portal-links. */
export const PortalLinkBody = z.strictObject({
  ttl_seconds: z._default(
    z.number().check(z.int(), z.gte(1), z.lte(PORTAL_LINK_MAX_TTL_SECONDS)),
    PORTAL_LINK_DEFAULT_TTL_SECONDS,
  ),
  capabilities: z._default(z.array(z.enum(CAPABILITIES)).check(z.maxLength(CAPABILITIES.length * 4)), [
    "read",
  ]),
});

/** PUT /portal/api/{tenant_id}/webhook. */
export const WebhookUrlBody = z.strictObject({ url: z.string().check(z.minLength(1), z.maxLength(2048)) });
