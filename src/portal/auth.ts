// The tenant portal's gates (docs/portal.md). `portalAuth` turns `Authorization: Bearer <portal token>` into
// the tenant and the link's capabilities, reading the tenant's record from the Registry (the authoritative
// copy, as admin routes do), so a revocation or a deletion holds from the next call. `sameTenant` answers the
// uniform not-found for a path that names any other tenant; `requires` checks one capability.
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { bearerCredentials } from "../http/bearer";
import type { HttpVariables } from "../http/context";
import { ApiError } from "../http/errors";
import { takeRead } from "../http/read-limit";
import { registry } from "../tenants/registry-client";
import type { Tenant } from "../tenants/schema";
import { type Capability, honoured, openPortalToken, type PortalClaims } from "./token";

export interface PortalEnv {
  Bindings: Env;
  Variables: HttpVariables & { tenant: Tenant; portal: PortalClaims };
}

const refused = () =>
  new ApiError("unauthorized", "The portal link is invalid, expired or revoked", {
    headers: { "WWW-Authenticate": 'Bearer realm="reelgate-portal", error="invalid_token"' },
  });

/** The one answer for anything outside the token's tenant, or not there: no id tells another apart. */
export const portalNotFound = () => new ApiError("not_found", "Not found");

export function portalAuth(): MiddlewareHandler<PortalEnv> {
  return async function portalAuth(c, next) {
    const token = bearerCredentials(c.req.header("authorization"));
    const opened = token
      ? await openPortalToken(c.get("config").signingSecret, token, Date.now())
      : "malformed";
    // A signed token's tenant is counted before anything is read (the Registry is one object for all).
    if (typeof opened !== "string")
      await takeRead(c.env, "portal", `portal:${opened.tenantId}`, c.get("log"));
    const tenant = typeof opened === "string" ? null : await registry(c.env).getTenant(opened.tenantId);
    const reason = typeof opened === "string" ? opened : honoured(opened, tenant);
    if (reason !== null || typeof opened === "string") {
      c.get("log").info("portal_token_refused", { reason });
      throw refused();
    }
    c.set("portal", opened);
    c.set("tenant", tenant!);
    await next();
  };
}

/** The path's `tenant_id` must be the token's: any other (real or not) is the uniform not-found. */
export function sameTenant(): MiddlewareHandler<PortalEnv> {
  return async function sameTenant(c, next) {
    if (c.req.param("tenant_id") !== c.get("portal").tenantId) throw portalNotFound();
    await next();
  };
}

export function requires(capability: Capability): MiddlewareHandler<PortalEnv> {
  return async function requires(c, next) {
    if (!c.get("portal").capabilities.includes(capability))
      throw new ApiError("forbidden", `This portal link does not allow ${capability}`);
    await next();
  };
}
