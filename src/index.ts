// The Worker's exports: the HTTP entry point, the queue consumers and the Durable Object classes.
import { app } from "./app";
import { handleQueue } from "./callbacks/queue";
import type { Env } from "./env";

export { Registry } from "./tenants/registry";
export { TenantState } from "./state/tenant-state";

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
