// The Worker's exports: the HTTP entry point, the queue consumers, the reconciliation cron and the Durable
// Object classes.
import { app } from "./app";
import { handleQueue } from "./callbacks/queue";
import { loadConfig } from "./config/env";
import type { Env } from "./env";
import { configLogger } from "./http/log";
import { sweepTenants } from "./tasks/sweeper";

export { Registry } from "./tenants/registry";
export { TenantState } from "./state/tenant-state";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  /** The Cron Trigger: reconcile every tenant's tasks in flight with the upstream (src/tasks/sweeper.ts). */
  async scheduled(controller, env) {
    const config = loadConfig(env);
    const log = configLogger(config, { cron: controller.cron });
    await sweepTenants(env, controller.scheduledTime, log);
  },
} satisfies ExportedHandler<Env>;
