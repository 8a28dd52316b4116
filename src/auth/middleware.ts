// The `/v1/*` gate: a bearer token verified against its tenant's keys becomes `c.var.principal`. Every refusal
// is the same 401 `invalid_token` to the client; the precise reason goes to the log, never the token.
// A suspended tenant is told so (403) only once its token has verified.
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import type { TenantEnv } from "./principal";
import { bearerCredentials } from "../http/bearer";
import { ApiError } from "../http/errors";
import type { Tenant } from "../tenants/schema";
import type { KeyResolver } from "./keys";
import { type AuthFailureReason, authFailureLog } from "./reasons";
import { verifyTenantToken } from "./verify";

export interface TenantAuthOptions {
  findTenantByIssuer(env: Env, issuer: string): Promise<Tenant | null>;
  /** Milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Defaults to the isolate's shared key resolver (tests inject their own for isolation). */
  keys?: KeyResolver;
}

export function tenantAuth(opts: TenantAuthOptions): MiddlewareHandler<TenantEnv> {
  if (typeof opts?.findTenantByIssuer !== "function") {
    throw new Error("tenantAuth: findTenantByIssuer(env, issuer) is required");
  }
  const now = opts.now ?? Date.now;

  return async function tenantAuth(c, next) {
    const token = bearerCredentials(c.req.header("authorization"));
    if (token === undefined) refuse(c, "missing_token", undefined);
    const result = await verifyTenantToken(token, {
      findTenantByIssuer: (issuer) => opts.findTenantByIssuer(c.env, issuer),
      now: now(),
      keys: opts.keys,
      // Fail closed: an app that set no config fetches public https key sets only.
      allowLocalUrls: c.get("config")?.devAllowLocalUrls === true,
    });
    if (!result.ok) refuse(c, result.reason, result.tenantId);
    if (result.tenant.status === "suspended") {
      c.get("log").info("tenant_suspended", { tenant_id: result.tenant.id });
      throw new ApiError("tenant_suspended", "This tenant is suspended");
    }
    c.set("principal", { tenant: result.tenant, sub: result.sub });
    await next();
  };
}

function refuse(c: Context<TenantEnv>, reason: AuthFailureReason, tenantId: string | undefined): never {
  const { event, level, fault } = authFailureLog(reason);
  c.get("log")[level](event, { reason, fault, tenant_id: tenantId });
  throw unauthorized();
}

/** One answer for every refusal, so a client learns nothing about why (the contract). */
function unauthorized(): ApiError {
  return new ApiError("unauthorized", "Missing or invalid bearer token", {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
  });
}
