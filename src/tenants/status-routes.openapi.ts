// OpenAPI operations of src/tenants/status-routes.ts: suspending and resuming a tenant.
import type { OperationSpec } from "../openapi/registry";
import { TenantViewSchema } from "./routes.openapi";
import { TENANT_ID_PATH } from "./query";

const statusOperation = (
  action: "suspend" | "resume",
  summary: string,
  description: string,
): OperationSpec => ({
  api: "admin",
  method: "post",
  path: `/admin/tenants/{tenant_id}/${action}`,
  operationId: `admin${action === "suspend" ? "Suspend" : "Resume"}Tenant`,
  summary,
  description,
  tag: "Tenants",
  security: "admin",
  pathParams: TENANT_ID_PATH,
  responses: { 200: { description: "The tenant as it is now (no secrets).", schema: TenantViewSchema } },
  errors: ["tenant_not_found"],
});

export const tenantStatusOperations: OperationSpec[] = [
  statusOperation(
    "suspend",
    "Suspend a tenant",
    "Its valid tokens get 403 `tenant_suspended` from then on (other isolates within 30 s); its tasks in flight go on. Idempotent.",
  ),
  statusOperation("resume", "Resume a tenant", "Its tokens work again. Idempotent."),
];
