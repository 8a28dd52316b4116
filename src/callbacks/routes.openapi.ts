// OpenAPI operations of src/callbacks (ingress.ts and admin-routes.ts) and the task-ended webhook a tenant
// receives (OpenAPI 3.1 `webhooks`).
import * as z from "zod";
import { jsonSchema } from "../openapi/json-schema";
import type { OperationSpec } from "../openapi/registry";
import { TASK_EXAMPLE, TaskViewSchema } from "../tasks/present.openapi";
import { TenantViewSchema } from "../tenants/routes.openapi";
import { TENANT_ID_PATH } from "../tenants/query";
import { DeliveryListQuery } from "./query";

export const callbackOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "post",
    path: "/callbacks/upstream/{token}",
    operationId: "upstreamCallback",
    summary: "EvoLink's task callback (internal)",
    description:
      "Where EvoLink reports a task's end; the URL's signed token is the credential. Not for tenants: the body is only a hint, the state is confirmed with EvoLink before it is recorded.",
    tag: "Internal",
    security: "none",
    pathParams: {
      token: { schema: z.string(), description: "Signed by the gateway when it created the task." },
    },
    body: {
      schema: { type: "object", description: "EvoLink's task object (only its status is read, as a hint)." },
    },
    responses: { 200: { description: "Received.", schema: z.object({ received: z.literal(true) }) } },
    errors: [
      "not_found",
      "task_not_found",
      "upstream_error",
      "upstream_timeout",
      "upstream_unavailable",
      "upstream_rate_limited",
    ],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/webhook-secret/rotate",
    operationId: "adminRotateWebhookSecret",
    summary: "Rotate a tenant's webhook secret",
    description: "A new secret (shown once); the old one keeps signing alongside it for a day.",
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    responses: { 200: { description: "The tenant, with the new secret.", schema: TenantViewSchema } },
    errors: ["tenant_not_found", "issuer_conflict"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/deliveries",
    operationId: "adminListDeliveries",
    summary: "A tenant's webhook delivery attempts",
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    query: DeliveryListQuery,
    queryDescriptions: { limit: "Attempts per page.", cursor: "The `cursor` of the previous page." },
    responses: {
      200: {
        description: "Newest first.",
        schema: z.object({
          object: z.literal("list"),
          data: z.array(
            z.object({
              id: z.string(),
              event_id: z.string(),
              task_id: z.string(),
              attempt: z.int().nullable(),
              attempted_at: z.string(),
              url: z.string().nullable(),
              status_code: z.int().nullable(),
              latency_ms: z.number().nullable(),
              outcome: z.enum(["delivered", "retrying", "failed", "dead_lettered"]),
              error: z.string().nullable(),
              next_attempt_at: z.string().nullable(),
              redelivery: z.boolean(),
            }),
          ),
          cursor: z.string().nullable(),
        }),
      },
    },
    errors: ["invalid_request", "tenant_not_found"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/deliveries/{id}/redeliver",
    operationId: "adminRedeliver",
    summary: "Send a webhook event again",
    tag: "Webhooks",
    security: "admin",
    pathParams: { id: { schema: z.string(), description: "A delivery id (`dlv_….<tenant>`)." } },
    responses: {
      202: {
        description: "Queued.",
        schema: z.object({
          object: z.literal("redelivery"),
          delivery_id: z.string(),
          event_id: z.string(),
          status: z.literal("queued"),
        }),
      },
    },
    errors: ["delivery_not_found"],
  },
];

/** The task-ended event, POSTed to the task's callback_url or the tenant's webhook URL. */
export const WEBHOOKS = {
  taskEnded: {
    post: {
      operationId: "taskEnded",
      summary: "A task ended",
      description:
        "Sent once per task end (retried with backoff until a 2xx), signed per Standard Webhooks with the tenant's `whsec_` secret: verify `webhook-id`, `webhook-timestamp` and `webhook-signature` (e.g. with the `standardwebhooks` package) before trusting it. The body is the task as GET /v1/tasks/{task_id} shows it.",
      parameters: ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({
        name,
        in: "header",
        required: true,
        schema: { type: "string" },
      })),
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: jsonSchema(TaskViewSchema, "output"),
            example: {
              ...TASK_EXAMPLE,
              status: "completed",
              progress: 100,
              results: ["https://cdn.example.com/out.mp4"],
            },
          },
        },
      },
      responses: { "200": { description: "Any 2xx acknowledges the event." } },
    },
  },
};
