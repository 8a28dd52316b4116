// The Worker's exports: the HTTP entry point and the Durable Object classes.
import { app } from "./app";
import type { Env } from "./env";

export { Registry } from "./tenants/registry";
export { TenantState } from "./state/tenant-state";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
