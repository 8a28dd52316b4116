// Connects the runtime's global types (`import { env, exports } from "cloudflare:workers"`) to this Worker.
import type { Env as GatewayEnv } from "./env";

declare global {
  namespace Cloudflare {
    interface Env extends GatewayEnv {
      /** Tests only: the upstream's OpenAPI documents keyed by file name, or null when ../shared is absent. */
      UPSTREAM_CONTRACT?: Record<string, unknown> | null;
    }
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "TenantState" | "Registry";
    }
  }
}
export {};
