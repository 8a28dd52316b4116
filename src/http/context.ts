// What every request carries once src/http/middleware.ts has run: its id, the parsed config and a logger,
// with the Worker's bindings. Routes behind a tenant's token add the principal (src/auth/principal.ts);
// admin routes about one tenant add that tenant (src/tenants/admin.ts).
import type { Config } from "../config/env";
import type { Env } from "../env";
import type { Logger } from "./log";

export interface HttpVariables {
  requestId: string;
  config: Config;
  log: Logger;
}

export interface HttpEnv {
  Bindings: Env;
  Variables: HttpVariables;
}
