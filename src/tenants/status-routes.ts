// POST /admin/tenants/{id}/suspend and /resume: the console's one-click status change, one call into the
// Registry (a read-modify-PUT from outside cannot keep an hs256_secret, which the admin API never shows).
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { registry } from "./registry-client";
import { TENANT_ID_PATTERN } from "./schema";
import { forgetTenant } from "./lookup";
import { tenantView } from "./view";

export const tenantStatusRoutes = new Hono<HttpEnv>();

for (const [action, status, event] of [
  ["suspend", "suspended", "tenant_suspended"],
  ["resume", "active", "tenant_resumed"],
] as const) {
  tenantStatusRoutes.post(`/:id/${action}`, async (c) => {
    const id = c.req.param("id");
    const result = TENANT_ID_PATTERN.test(id) ? await registry(c.env).setStatus(id, status) : null;
    if (!result?.ok) throw new ApiError("tenant_not_found", "No such tenant");
    forgetTenant(result.tenant.auth.issuer);
    c.get("log").info(event, { tenant_id: id });
    return c.json(tenantView(result.tenant));
  });
}
