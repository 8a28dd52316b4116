// The Worker's exports: the HTTP entry point, the queue consumers and the Durable Object classes. There is
// no `scheduled` handler: each tenant's object sweeps its own tasks from its own alarm (src/tasks/sweeper.ts).
import { app } from "./app";
import { handleQueue } from "./callbacks/queue";
import type { Env } from "./env";

export { Registry } from "./registry-object/registry";
export { TenantState } from "./tenant-object/tenant-state";

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
