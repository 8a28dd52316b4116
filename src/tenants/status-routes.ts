// POST /admin/tenants/{id}/suspend and /resume: the console's one-click status change. A PUT of the whole
// record does the same, but the admin API never shows an hs256_secret, so a read-modify-PUT cannot.
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { registry } from "./registry";
import { TENANT_ID_PATTERN } from "./schema";
import { forgetTenant, getTenant } from "./store";
import { tenantView } from "./view";

export const tenantStatusRoutes = new Hono<AppEnv>();

for (const [action, status, event] of [
  ["suspend", "suspended", "tenant_suspended"],
  ["resume", "active", "tenant_resumed"],
] as const) {
  tenantStatusRoutes.post(`/:id/${action}`, async (c) => {
    const id = c.req.param("id");
    const tenant = TENANT_ID_PATTERN.test(id) ? await getTenant(c.env, id) : null;
    if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");
    if (tenant.status === status) return c.json(tenantView(tenant));
    const record = { ...tenant, status, updated_at: new Date().toISOString() };
    const result = await registry(c.env).putTenant(record);
    if (result.conflictWith) throw new ApiError("issuer_conflict", "Another tenant already uses this issuer");
    forgetTenant(record.auth.issuer);
    c.get("log").info(event, { tenant_id: id });
    return c.json(tenantView(record));
  });
}
