// GET /portal/{tenant_id}: the tenant portal's page. Its HTML is this one small document, served by the Worker
// so that its headers can be the tenant's own: CSP `frame-ancestors` lists the tenant's
// `portal.frame_ancestors` ('none' without any). Its script and styles are static assets
// (public/portal-assets/, built from portal/ by scripts/assets/portal.mjs). An unknown tenant, or an id that
// cannot be one, gets the very same page with 'none' (no enumeration: the page knows nothing until its
// token is checked by /portal/api).
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { getTenant } from "../tenants/lookup";
import { TENANT_ID_PATTERN } from "../tenants/schema";

export const PORTAL_ASSETS = "/portal-assets";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Webhooks and usage</title>
    <link rel="stylesheet" href="${PORTAL_ASSETS}/app.css" />
  </head>
  <body>
    <div id="app"><p class="notice">Loading…</p></div>
    <noscript>This page needs JavaScript.</noscript>
    <script type="module" src="${PORTAL_ASSETS}/app.js"></script>
  </body>
</html>
`;

/** The page's Content-Security-Policy: its own assets only, framed by `ancestors` alone. */
export function portalCsp(ancestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // uPlot and Preact set element styles from script; no inline <style> or style="" markup is served.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors.length ? ancestors.join(" ") : "'none'"}`,
  ].join("; ");
}

export const portalPageRoutes = new Hono<HttpEnv>();

portalPageRoutes.get("/:tenant_id", async (c) => {
  const id = c.req.param("tenant_id");
  const tenant = TENANT_ID_PATTERN.test(id) ? await getTenant(c.env, id) : null;
  return c.body(PAGE, 200, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": portalCsp(tenant?.portal?.frame_ancestors ?? []),
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  });
});
