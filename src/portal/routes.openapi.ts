// OpenAPI operations of src/portal: the operator's link routes (admin document), the portal's page and its
// API (tenant document, with the portal token as its credential). The portal API's bodies are the admin
// routes' own (usage per day, tasks, deliveries, files), taken from their specs, not copied.
import * as z from "zod";
import { callbackOperations, EndpointHealthSchema } from "../callbacks/routes.openapi";
import { RecoverBody, WebhookEnableBody } from "../callbacks/query";
import { filesOperations } from "../files/routes.openapi";
import type { OperationSpec } from "../openapi/registry";
import { taskListOperations } from "../tasks/list-routes.openapi";
import { TENANT_ID_PATH } from "../tenants/query";
import { AdminTaskListQuerySchema } from "../tasks/list-query";
import { OperatorDeliveryListQuery } from "../callbacks/query";
import { FileListQuery } from "../files/query";
import { DailyUsageQuery } from "../usage/query";
import { dailyUsageOperations } from "../usage/daily-routes.openapi";
import { CAPABILITIES } from "./token";
import { PortalLinkBody, WebhookUrlBody } from "./query";

type Obj = z.ZodObject<z.ZodRawShape>;
/** The 200 body schema of a documented operation, by its id (so a change there is a change here). */
function bodyOf(ops: readonly OperationSpec[], operationId: string, status = 200): Obj {
  const schema = ops.find((op) => op.operationId === operationId)?.responses[status]?.schema;
  if (!schema) throw new Error(`OpenAPI: no ${status} body for ${operationId}`);
  return schema as Obj;
}

const PORTAL_PATH = {
  tenant_id: { schema: z.string(), description: "The tenant of the portal link (its token's tenant)." },
};

const WebhookSchema = z.object({
  object: z.literal("webhook"),
  url: z.string().nullable(),
  secret_set: z.boolean(),
  previous_secret_expires_at: z
    .string()
    .optional()
    .describe("While set, the previous secret signs too (the overlap after a rotation)."),
  secret: z.string().optional().describe("Shown once: in the answer of the rotation."),
  health: z
    .array(EndpointHealthSchema)
    .optional()
    .describe("Each endpoint's health, the tenant's webhook URL first (in GET only)."),
});

const taskList = bodyOf(taskListOperations, "adminListTasks");
const taskItem = (taskList.shape.data as z.ZodArray<Obj>).element.omit({ upstream_id: true });
const taskDetail = bodyOf(taskListOperations, "adminGetTask")
  .omit({ upstream_id: true })
  .extend({
    results: z
      .array(z.string())
      .describe("Result links: the gateway's signed URLs while they are kept, else the upstream's links."),
  });
const fileData = ((bodyOf(filesOperations, "listFiles").shape.data as Obj).shape.files as z.ZodArray<Obj>)
  .element;

/** A portal API route: the tenant document, the portal token, the tenant in the path. */
const portal = (spec: Omit<OperationSpec, "api" | "tag" | "security">): OperationSpec => ({
  api: "tenant",
  tag: "Tenant portal",
  security: "portal",
  ...spec,
  pathParams: { ...PORTAL_PATH, ...spec.pathParams },
  // Every portal call counts against the tenant's portal limit (src/portal/auth.ts).
  errors: [...(spec.errors ?? []), "rate_limit_exceeded"],
});

export const portalOperations: OperationSpec[] = [
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/portal-links",
    operationId: "adminCreatePortalLink",
    summary: "Issue a tenant portal link",
    description:
      "A link to the tenant's own portal (usage, tasks, deliveries, webhook, uploads): `{PUBLIC_BASE_URL}/portal/{tenant_id}#<token>`, the token in the fragment so that it reaches no log. It works until `expires_at`, until the tenant's links are revoked, and only for this life of the tenant. `read` is always included.",
    tag: "Tenant portal",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    body: {
      schema: PortalLinkBody,
      examples: { support: { value: { ttl_seconds: 3600, capabilities: ["read", "redeliver"] } } },
    },
    responses: {
      201: {
        description: "The link.",
        schema: z.object({
          object: z.literal("portal_link"),
          tenant_id: z.string(),
          url: z.string(),
          expires_at: z.string(),
          capabilities: z.array(z.enum(CAPABILITIES)),
        }),
      },
    },
    errors: ["invalid_request", "payload_too_large", "unsupported_media_type"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/portal-links/revoke",
    operationId: "adminRevokePortalLinks",
    summary: "Revoke every portal link of a tenant",
    description: "Every link issued so far answers 401 from the next call; links issued afterwards work.",
    tag: "Tenant portal",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    responses: {
      200: {
        description: "Revoked.",
        schema: z.object({
          object: z.literal("portal_links_revoked"),
          tenant_id: z.string(),
          links_valid_after: z.string(),
        }),
      },
    },
    errors: [],
  },
  {
    api: "tenant",
    method: "get",
    path: "/portal/{tenant_id}",
    operationId: "portalPage",
    summary: "The tenant portal's page",
    description:
      "HTML; its script reads the token from the URL's fragment. Served with the tenant's CSP `frame-ancestors` (`portal.frame_ancestors`; 'none' without any). Any id gets the same page: it shows nothing until the token is checked.",
    tag: "Tenant portal",
    security: "none",
    pathParams: PORTAL_PATH,
    responses: { 200: { description: "The page.", binary: ["text/html"] } },
    errors: [],
  },
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/session",
    operationId: "portalSession",
    summary: "What the portal link is",
    responses: {
      200: {
        description: "The tenant and what the link allows, until when.",
        schema: z.object({
          object: z.literal("portal_session"),
          tenant_id: z.string(),
          name: z.string(),
          status: z.enum(["active", "suspended"]),
          capabilities: z.array(z.enum(CAPABILITIES)),
          expires_at: z.string(),
        }),
      },
    },
    errors: [],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/usage",
    operationId: "portalUsage",
    summary: "The tenant's month, per day, and its alert thresholds",
    query: DailyUsageQuery,
    queryDescriptions: { month: "YYYY-MM (UTC); the current month when absent." },
    responses: {
      200: {
        description: "What GET /admin/tenants/{tenant_id}/usage/daily answers, with the alert thresholds.",
        schema: bodyOf(dailyUsageOperations, "adminGetDailyUsage").extend({
          alerts: z.object({
            monthly_credits: z.number().nullable(),
            thresholds: z.array(z.int()).describe("Percentages of `monthly_credits`."),
          }),
        }),
      },
    },
    errors: ["invalid_request"],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/tasks",
    operationId: "portalListTasks",
    summary: "The tenant's tasks",
    query: AdminTaskListQuerySchema,
    responses: {
      200: { description: "Newest first.", schema: taskList.extend({ data: z.array(taskItem) }) },
    },
    errors: ["invalid_request"],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/tasks/{task_id}",
    operationId: "portalGetTask",
    summary: "One of the tenant's tasks, with its result links",
    pathParams: { task_id: { schema: z.string(), description: "The gateway's task id." } },
    responses: { 200: { description: "The task.", schema: taskDetail } },
    errors: [],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/deliveries",
    operationId: "portalListDeliveries",
    summary: "The tenant's webhook delivery attempts",
    query: OperatorDeliveryListQuery,
    queryDescriptions: { limit: "Attempts per page.", cursor: "The `cursor` of the previous page." },
    responses: {
      200: { description: "Newest first.", schema: bodyOf(callbackOperations, "adminListDeliveries") },
    },
    errors: ["invalid_request"],
  }),
  portal({
    method: "post",
    path: "/portal/api/{tenant_id}/deliveries/{delivery_id}/redeliver",
    operationId: "portalRedeliver",
    summary: "Send a webhook event again (capability `redeliver`)",
    pathParams: { delivery_id: { schema: z.string(), description: "A delivery id of the tenant." } },
    responses: {
      202: {
        description: "Queued, with the event's original `webhook-id`.",
        schema: bodyOf(callbackOperations, "adminRedeliver", 202),
      },
    },
    errors: ["forbidden"],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/webhook",
    operationId: "portalGetWebhook",
    summary: "The tenant's webhook endpoint and its secret's state",
    responses: { 200: { description: "The endpoint.", schema: WebhookSchema } },
    errors: [],
  }),
  portal({
    method: "put",
    path: "/portal/api/{tenant_id}/webhook",
    operationId: "portalSetWebhookUrl",
    summary: "Change the webhook URL (capability `edit_webhook`)",
    body: { schema: WebhookUrlBody },
    responses: { 200: { description: "The endpoint.", schema: WebhookSchema } },
    errors: ["invalid_request", "forbidden", "payload_too_large", "unsupported_media_type"],
  }),
  portal({
    method: "post",
    path: "/portal/api/{tenant_id}/webhook/rotate-secret",
    operationId: "portalRotateWebhookSecret",
    summary: "Rotate the webhook secret (capability `rotate_secret`)",
    description: "A new secret, shown once; the old one keeps signing alongside it for a day.",
    responses: { 200: { description: "The endpoint, with the new secret.", schema: WebhookSchema } },
    errors: ["forbidden"],
  }),
  portal({
    method: "post",
    path: "/portal/api/{tenant_id}/webhook/enable",
    operationId: "portalEnableWebhook",
    summary: "Re-enable a disabled endpoint (capability `edit_webhook`)",
    description:
      "Delivers every event held for it, oldest first, at a bounded rate. With no body, the tenant's webhook URL; another `url` must be one of the tenant's endpoints (GET …/webhook lists them).",
    body: { schema: WebhookEnableBody, description: "Optional." },
    responses: {
      200: {
        description: "Enabled; `released` events are on their way.",
        schema: bodyOf(callbackOperations, "adminEnableWebhook"),
      },
    },
    errors: ["invalid_request", "forbidden", "payload_too_large", "unsupported_media_type"],
  }),
  portal({
    method: "post",
    path: "/portal/api/{tenant_id}/webhook/test-event",
    operationId: "portalSendTestEvent",
    summary: "Send a `webhook.test` event (capability `edit_webhook`)",
    responses: {
      202: {
        description: "Queued; it appears in the deliveries.",
        schema: bodyOf(callbackOperations, "adminSendTestEvent", 202),
      },
    },
    errors: ["invalid_request", "forbidden"],
  }),
  portal({
    method: "post",
    path: "/portal/api/{tenant_id}/deliveries/recover",
    operationId: "portalRecoverDeliveries",
    summary: "Recover everything that failed since a time (capability `redeliver`)",
    description:
      "Every event whose attempts since `since` ended failed or dead-lettered is sent again, once, with its original `webhook-id`.",
    body: { schema: RecoverBody },
    responses: {
      202: {
        description: "Queued.",
        schema: bodyOf(callbackOperations, "adminRecoverDeliveries", 202),
      },
    },
    errors: ["invalid_request", "forbidden", "payload_too_large", "unsupported_media_type"],
  }),
  portal({
    method: "get",
    path: "/portal/api/{tenant_id}/uploads",
    operationId: "portalListUploads",
    summary: "The tenant's uploaded files",
    query: FileListQuery,
    queryDescriptions: {
      page: "1-based page.",
      pageSize: "Files per page.",
      page_size: "Same as `pageSize`.",
    },
    responses: {
      200: {
        description: "Newest first.",
        schema: z.object({
          object: z.literal("list"),
          data: z.array(fileData),
          total: z.int(),
          page: z.int(),
          page_size: z.int(),
        }),
      },
    },
    errors: ["invalid_request"],
  }),
];
