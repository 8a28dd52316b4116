// Bindings and per-request variables, typed once. `Env` is what `wrangler types` generates from
// wrangler.jsonc (src/worker-configuration.d.ts, never edited by hand) plus the optional settings declared in
// src/worker-env.d.ts; `AppEnv` is hono's view.
import type { Config } from "./config/env";
import type { Logger } from "./http/log";
import type { Tenant } from "./tenants/schema";

/** The Worker's bindings, vars and secrets: the generated `Cloudflare.Env`. */
export type Env = Cloudflare.Env;

export interface Principal {
  tenant: Tenant;
  /** The end user (`sub`), when the token names one. */
  sub: string | undefined;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    log: Logger;
    principal: Principal;
  };
}
