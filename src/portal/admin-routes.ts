// The operator's side of the tenant portal (docs/portal.md), behind the admin token and the tenant gate
// (src/tenants/admin.ts): POST …/portal-links issues a link, `{PUBLIC_BASE_URL}/portal/{tenant_id}#<token>`
// (the token in the fragment never reaches a log); POST …/portal-links/revoke ends every link issued so far.
import { Hono } from "hono";
import { readJsonBody } from "../http/body";
import { parseWith } from "../http/validate";
import { type AdminEnv, tenantNotFound } from "../tenants/admin";
import { forgetTenant } from "../tenants/lookup";
import { registry } from "../tenants/registry-client";
import { PortalLinkBody } from "./query";
import { normalCapabilities, signPortalToken } from "./token";

/** A link's body is small: a TTL and up to four capabilities. */
const MAX_LINK_BODY_BYTES = 4096;

export const portalAdminRoutes = new Hono<AdminEnv>();

portalAdminRoutes.post("/:tenant_id/portal-links", async (c) => {
  const tenant = c.get("tenant");
  const input = parseWith(PortalLinkBody, await readJsonBody(c.req.raw, MAX_LINK_BODY_BYTES));
  const capabilities = normalCapabilities(input.capabilities);
  // After the last revocation even within its millisecond, so a link issued right after one works.
  const issuedAt = Math.max(Date.now(), (tenant.portal?.links_valid_after ?? 0) + 1);
  const expiresAt = (Math.floor(issuedAt / 1000) + input.ttl_seconds) * 1000;
  const token = await signPortalToken(c.get("config").signingSecret, {
    tenantId: tenant.id,
    incarnation: tenant.incarnation,
    issuedAt,
    expiresAt,
    capabilities,
  });
  c.get("log").info("portal_link_issued", {
    tenant_id: tenant.id,
    capabilities,
    ttl_seconds: input.ttl_seconds,
  });
  return c.json(
    {
      object: "portal_link",
      tenant_id: tenant.id,
      url: `${c.get("config").publicBaseUrl}/portal/${tenant.id}#${token}`,
      expires_at: new Date(expiresAt).toISOString(),
      capabilities,
    },
    201,
  );
});

portalAdminRoutes.post("/:tenant_id/portal-links/revoke", async (c) => {
  const result = await registry(c.env).revokePortalLinks(c.get("tenant").id);
  if (!result.ok) throw tenantNotFound();
  forgetTenant(result.tenant.auth.issuer);
  const validAfter = new Date(result.tenant.portal!.links_valid_after!).toISOString();
  c.get("log").info("portal_links_revoked", { tenant_id: result.tenant.id, version: result.tenant.version });
  return c.json({
    object: "portal_links_revoked",
    tenant_id: result.tenant.id,
    links_valid_after: validAfter,
  });
});
