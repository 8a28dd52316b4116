// Who is calling, once src/auth/middleware.ts has verified the bearer token: the tenant whose keys
// verified it, and the end user it names (`sub`), if any. Routes under /v1 are typed with `TenantEnv`.
import type { Env } from "../env";
import type { HttpVariables } from "../http/context";
import type { Tenant } from "../tenants/schema";

export interface Principal {
  tenant: Tenant;
  /** The end user (`sub`), when the token names one. */
  sub: string | undefined;
}

export interface TenantEnv {
  Bindings: Env;
  Variables: HttpVariables & { principal: Principal };
}
