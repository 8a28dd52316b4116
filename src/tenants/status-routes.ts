// POST /admin/tenants/{tenant_id}/suspend and /resume: the console's one-click status change, one call into
// the Registry (a read-modify-PUT from outside cannot keep an hs256_secret, which the admin API never
// shows). The tenant was found by `adminTenant` (./admin.ts).
import { Hono } from "hono";
import { type AdminEnv, tenantNotFound } from "./admin";
import { forgetTenant } from "./lookup";
import { registry } from "./registry-client";
import { tenantView } from "./view";

export const tenantStatusRoutes = new Hono<AdminEnv>();

for (const [action, status, event] of [
  ["suspend", "suspended", "tenant_suspended"],
  ["resume", "active", "tenant_resumed"],
] as const) {
  tenantStatusRoutes.post(`/:tenant_id/${action}`, async (c) => {
    const id = c.get("tenant").id;
    const result = await registry(c.env).setStatus(id, status);
    if (!result.ok) throw tenantNotFound();
    forgetTenant(result.tenant.auth.issuer);
    c.get("log").info(event, { tenant_id: id });
    return c.json(tenantView(result.tenant));
  });
}
