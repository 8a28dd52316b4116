// The admin API's two gates. `adminAuth` checks the operator's token on /admin/*. `adminTenant` runs on
// every `/admin/tenants/{tenant_id}/…` sub-resource: it checks the id (400 naming `tenant_id`), reads the
// tenant from the Registry (the authoritative record, not the KV replica) and sets `c.var.tenant`, or
// answers 404 `tenant_not_found` — one answer for each case, whichever route is asked.
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { bearerCredentials } from "../http/bearer";
import type { HttpEnv, HttpVariables } from "../http/context";
import { ApiError } from "../http/errors";
import { parseWith } from "../http/validate";
import { safeEqual } from "../util/hmac";
import { TenantIdParams } from "./query";
import { registry } from "./registry-client";
import type { Tenant } from "./schema";

/** An admin request about one tenant, once `adminTenant` has found it. */
export interface AdminEnv {
  Bindings: Env;
  Variables: HttpVariables & { tenant: Tenant };
}

/** Where `adminTenant` runs (hono's `:id/*` would also match the tenant's own path, which may not exist yet). */
export const ADMIN_TENANT_PATH = "/admin/tenants/:tenant_id/:resource{.+}";

export function adminAuth(): MiddlewareHandler<HttpEnv> {
  return async function adminAuth(c, next) {
    const token = bearerCredentials(c.req.header("authorization"));
    if (!token || !(await safeEqual(token, c.get("config").adminToken))) {
      throw new ApiError("unauthorized", "Invalid admin token", {
        headers: { "WWW-Authenticate": 'Bearer realm="reelgate-admin", error="invalid_token"' },
      });
    }
    await next();
  };
}

export function adminTenant(): MiddlewareHandler<AdminEnv> {
  return async function adminTenant(c, next) {
    const { tenant_id } = parseWith(TenantIdParams, { tenant_id: c.req.param("tenant_id") });
    const tenant = await registry(c.env).getTenant(tenant_id);
    if (!tenant) throw tenantNotFound();
    c.set("tenant", tenant);
    await next();
  };
}

export const tenantNotFound = () => new ApiError("tenant_not_found", "No such tenant");
