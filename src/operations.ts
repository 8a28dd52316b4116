// Every operation of both OpenAPI documents, one list per route module. A new route adds its
// `OperationSpec` in a `*.openapi.ts` next to its module and its list here; test/openapi/coverage.test.ts
// fails while app.ts routes something the documents lack, or the reverse.
import { callbackOperations } from "./callbacks/routes.openapi";
import { filesOperations } from "./files/routes.openapi";
import { resultOperations } from "./results/routes.openapi";
import { catalogOperations } from "./generations/catalog.openapi";
import { generationOperations } from "./generations/routes.openapi";
import { usageOperations } from "./usage/routes.openapi";
import { creditsOperations } from "./usage/credits-routes.openapi";
import { taskListOperations } from "./tasks/list-routes.openapi";
import { taskOperations } from "./tasks/routes.openapi";
import { taskBatchOperations } from "./tasks/batch.openapi";
import { eventOperations } from "./events/routes.openapi";
import { tenantOperations } from "./tenants/routes.openapi";
import { tenantStatusOperations } from "./tenants/status-routes.openapi";
import { upstreamOperations } from "./tenants/upstream-routes.openapi";
import { dailyUsageOperations } from "./usage/daily-routes.openapi";
import { metaOperations } from "./openapi/meta.openapi";
import { portalOperations } from "./portal/routes.openapi";
import type { OperationSpec } from "./openapi/registry";

import { RELAY_OPERATOR_WEBHOOKS, TASK_WEBHOOKS } from "./callbacks/routes.openapi";
import { USAGE_OPERATOR_WEBHOOKS, USAGE_WEBHOOKS } from "./usage/events.openapi";

/** The events a tenant receives (the tenant document's `webhooks`). */
export const WEBHOOKS = { ...TASK_WEBHOOKS, ...USAGE_WEBHOOKS };
/** The operator's events at OPERATOR_WEBHOOK_URL (the admin document's `webhooks`). */
export const OPERATOR_WEBHOOKS = { ...USAGE_OPERATOR_WEBHOOKS, ...RELAY_OPERATOR_WEBHOOKS };

export const OPERATIONS: readonly OperationSpec[] = [
  ...metaOperations,
  ...generationOperations,
  ...taskOperations,
  ...taskBatchOperations,
  ...eventOperations,
  ...taskListOperations,
  ...catalogOperations,
  ...usageOperations,
  ...creditsOperations,
  ...dailyUsageOperations,
  ...tenantOperations,
  ...tenantStatusOperations,
  ...upstreamOperations,
  ...callbackOperations,
  ...filesOperations,
  ...resultOperations,
  ...portalOperations,
];
