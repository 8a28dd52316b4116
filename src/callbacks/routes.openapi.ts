// OpenAPI operations of src/callbacks (ingress.ts and admin-routes.ts) and the task-ended webhook a tenant
// receives (OpenAPI 3.1 `webhooks`).
import * as z from "zod";
import { jsonSchema } from "../openapi/json-schema";
import type { OperationSpec } from "../openapi/registry";
import { TASK_EXAMPLE, TaskViewSchema } from "../tasks/present.openapi";
import { TenantViewSchema } from "../tenants/routes.openapi";
import { TENANT_ID_PATH } from "../tenants/query";
import { DeliveryListQuery, OperatorDeliveryListQuery, RecoverBody, WebhookEnableBody } from "./query";
import { EVENT_TYPES } from "./message";
import { WEBHOOK_RELEASE_PER_SECOND } from "../config/constants";

/** A page of delivery records, newest first. */
const DeliveryListSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      id: z.string(),
      event_id: z.string(),
      task_id: z.string().nullable().describe("Null for an event about no task."),
      type: z.enum(EVENT_TYPES),
      audience: z.enum(["tenant", "operator"]),
      attempt: z.int().nullable(),
      attempted_at: z.string(),
      url: z.string().nullable(),
      status_code: z.int().nullable(),
      latency_ms: z.number().nullable(),
      outcome: z
        .enum(["delivered", "retrying", "failed", "dead_lettered", "held"])
        .describe(
          "`held`: the attempt failed while its endpoint is disabled; the event waits, unretried, for a re-enable.",
        ),
      error: z.string().nullable(),
      next_attempt_at: z.string().nullable(),
      redelivery: z.boolean(),
    }),
  ),
  cursor: z.string().nullable(),
});

/** An endpoint's health (src/callbacks/health.ts `EndpointHealth`). */
export const EndpointHealthSchema = z.object({
  url: z.string(),
  state: z.enum(["enabled", "disabled"]),
  consecutive_failures: z.int().describe("Failed attempts since the last success."),
  first_failure_at: z.string().nullable().describe("The first failure of the current run."),
  last_success_at: z.string().nullable(),
  success_ratio_24h: z.number().nullable().describe("Delivered / attempted over 24 h; null: no attempt."),
  disabled_at: z.string().nullable(),
  held: z.int().describe("Events waiting for a re-enable."),
});

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
    queryDescriptions: {
      limit: "Attempts per page.",
      cursor: "The `cursor` of the previous page.",
      audience:
        "`tenant` (default): the tenant's own events, sent to its webhook; `operator`: the operator's events about the tenant (`usage.settled`, `tenant.quota_exhausted`, `delivery.dead_lettered`), sent to OPERATOR_WEBHOOK_URL.",
    },
    responses: {
      200: {
        description: "Newest first.",
        schema: DeliveryListSchema,
      },
    },
    errors: ["invalid_request", "tenant_not_found"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/webhook/health",
    operationId: "adminWebhookHealth",
    summary: "The health of a tenant's webhook endpoints",
    description:
      "One entry per endpoint the tenant's events went to in the last 24 h, and its webhook URL (first): the current run of failures, the last success, the 24 h success ratio, and whether it is disabled (an endpoint failing continuously for `WEBHOOK_DISABLE_AFTER_HOURS` is) with its held events.",
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    responses: {
      200: {
        description: "The tenant's endpoints.",
        schema: z.object({ object: z.literal("list"), data: z.array(EndpointHealthSchema) }),
      },
    },
    errors: ["tenant_not_found"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/webhook/enable",
    operationId: "adminEnableWebhook",
    summary: "Re-enable a webhook endpoint",
    description: `Re-enables the endpoint (a fresh run: its old failures no longer count) and delivers every event held for it, oldest first, at most ${WEBHOOK_RELEASE_PER_SECOND} per second (or the tenant's \`webhook.max_per_second\`, if lower). Enabling an endpoint that is not disabled changes nothing.`,
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    body: {
      schema: WebhookEnableBody,
      description: "Optional: with no body (or no `url`), the tenant's webhook URL.",
    },
    responses: {
      200: {
        description: "Enabled; `released` events are on their way.",
        schema: z.object({
          object: z.literal("webhook_endpoint"),
          url: z.string(),
          state: z.literal("enabled"),
          released: z.int(),
        }),
      },
    },
    errors: ["invalid_request", "tenant_not_found", "payload_too_large", "unsupported_media_type"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/deliveries/recover",
    operationId: "adminRecoverDeliveries",
    summary: "Recover every failed event since a time",
    description:
      "Every event of the tenant's whose attempts since `since` ended `failed` or `dead_lettered` (and that was not delivered after) is sent again, once, with its original `webhook-id`, so receivers deduplicate. Events still retrying or held are left alone. Delivery records are kept 7 days.",
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    body: { schema: RecoverBody, examples: { since: { value: { since: "2026-12-07T00:00:00Z" } } } },
    responses: {
      202: {
        description: "Queued.",
        schema: z.object({
          object: z.literal("recovery"),
          since: z.string(),
          queued: z.int(),
          status: z.literal("queued"),
        }),
      },
    },
    errors: ["invalid_request", "tenant_not_found", "payload_too_large", "unsupported_media_type"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/tenants/{tenant_id}/webhook/test",
    operationId: "adminSendTestEvent",
    summary: "Send a test event to a tenant's webhook",
    description:
      "A `webhook.test` event, signed and recorded like every other (it appears in the deliveries), to the tenant's webhook URL. Sent even while the endpoint is disabled: it is how to check that the endpoint is back.",
    tag: "Webhooks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    responses: {
      202: {
        description: "Queued.",
        schema: z.object({
          object: z.literal("test_event"),
          event_id: z.string(),
          url: z.string(),
          status: z.literal("queued"),
        }),
      },
    },
    errors: ["invalid_request", "tenant_not_found"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/deliveries",
    operationId: "adminListOperatorDeliveries",
    summary: "Delivery attempts of the operator's events about no tenant",
    description:
      "The operator's events that belong to no tenant (`upstream.credits_low`), sent to OPERATOR_WEBHOOK_URL and recorded in the Registry; redeliver one with POST /admin/deliveries/{id}/redeliver. The operator's events about a tenant are listed with GET /admin/tenants/{tenant_id}/deliveries?audience=operator.",
    tag: "Webhooks",
    security: "admin",
    query: OperatorDeliveryListQuery,
    queryDescriptions: { limit: "Attempts per page.", cursor: "The `cursor` of the previous page." },
    responses: { 200: { description: "Newest first.", schema: DeliveryListSchema } },
    errors: ["invalid_request"],
  },
  {
    api: "admin",
    method: "post",
    path: "/admin/deliveries/{id}/redeliver",
    operationId: "adminRedeliver",
    summary: "Send a webhook event again",
    tag: "Webhooks",
    security: "admin",
    pathParams: {
      id: {
        schema: z.string(),
        description:
          "A delivery id (`dlv_….<tenant>`, or `dlv_…._registry` for the operator's events about no tenant).",
      },
    },
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

const SIGNED_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({
  name,
  in: "header",
  required: true,
  schema: { type: "string" },
}));

/** An event other than a task's end: `{type, timestamp, data}`. */
export function eventBody(type: string, data: z.ZodType) {
  return z.object({
    type: z.literal(type),
    timestamp: z.string().describe("When it happened (ISO 8601)."),
    data,
  });
}

export function webhook(
  operationId: string,
  summary: string,
  description: string,
  schema: z.ZodType,
  example: unknown,
) {
  return {
    post: {
      operationId,
      summary,
      description,
      parameters: SIGNED_HEADERS,
      requestBody: {
        required: true,
        content: { "application/json": { schema: jsonSchema(schema, "output"), example } },
      },
      responses: { "200": { description: "Any 2xx acknowledges the event." } },
    },
  };
}

export const SIGNED =
  "Signed per Standard Webhooks: verify `webhook-id`, `webhook-timestamp` and `webhook-signature` (e.g. with the `standardwebhooks` package) before trusting it; deduplicate by `webhook-id`, which every attempt and redelivery of one event shares.";

/** The task's end, which a tenant receives (OpenAPI 3.1 `webhooks` of the tenant document; src/usage adds its own). */
export const TASK_WEBHOOKS = {
  taskEnded: webhook(
    "taskEnded",
    "A task ended",
    `Sent once per task end (retried with backoff until a 2xx) to the task's callback_url or the tenant's webhook URL, signed with the tenant's \`whsec_\` secret. ${SIGNED} The body is the task as GET /v1/tasks/{task_id} shows it.`,
    TaskViewSchema,
    { ...TASK_EXAMPLE, status: "completed", progress: 100, results: ["https://cdn.example.com/out.mp4"] },
  ),
  webhookTest: webhook(
    "webhookTest",
    "A test event",
    `Sent when the operator (or the tenant's portal) asks for one, to check that the endpoint receives and verifies events; nothing else happened. ${SIGNED}`,
    eventBody("webhook.test", z.object({ tenant_id: z.string(), message: z.string() })),
    {
      type: "webhook.test",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: {
        tenant_id: "acme",
        message: "A test event from reelgate: your endpoint receives and verifies it.",
      },
    },
  ),
};

/**
 * The relay's events for the operator (src/usage adds its own): sent to OPERATOR_WEBHOOK_URL, signed with
 * OPERATOR_WEBHOOK_SECRET (the admin document's `webhooks`); with no URL set, structured log lines instead.
 */
export const RELAY_OPERATOR_WEBHOOKS = {
  deliveryDeadLettered: webhook(
    "deliveryDeadLettered",
    "A tenant's webhook exhausted its retries",
    `One of a tenant's events failed every scheduled attempt and was dead-lettered; \`POST /admin/deliveries/{id}/redeliver\` sends it again. ${SIGNED}`,
    eventBody(
      "delivery.dead_lettered",
      z.object({
        tenant_id: z.string(),
        delivery_id: z.string(),
        event_id: z.string(),
        event_type: z.enum(EVENT_TYPES),
        task_id: z.string().nullable(),
        url: z.string().nullable(),
      }),
    ),
    {
      type: "delivery.dead_lettered",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: {
        tenant_id: "acme",
        delivery_id: "dlv_….acme",
        event_id: "msg_…",
        event_type: "task.ended",
        task_id: "task-unified-…",
        url: "https://hooks.acme.example/reelgate",
      },
    },
  ),
  webhookEndpointDisabled: webhook(
    "webhookEndpointDisabled",
    "A tenant's webhook endpoint was disabled",
    `One of a tenant's endpoints failed every attempt for \`WEBHOOK_DISABLE_AFTER_HOURS\` and was disabled: its new events are held, unattempted, until \`POST /admin/tenants/{tenant_id}/webhook/enable\` (or the console, or the tenant's portal) re-enables it and releases them. ${SIGNED}`,
    eventBody(
      "webhook.endpoint_disabled",
      z.object({
        tenant_id: z.string(),
        url: z.string(),
        disabled_at: z.string(),
        failing_since: z.string().nullable(),
        consecutive_failures: z.int(),
      }),
    ),
    {
      type: "webhook.endpoint_disabled",
      timestamp: "2026-12-12T09:30:00.000Z",
      data: {
        tenant_id: "acme",
        url: "https://hooks.acme.example/reelgate",
        disabled_at: "2026-12-12T09:30:00.000Z",
        failing_since: "2026-12-07T09:29:41.000Z",
        consecutive_failures: 212,
      },
    },
  ),
  upstreamCreditsLow: webhook(
    "upstreamCreditsLow",
    "The operator's EvoLink balance is running out",
    `The Registry read the operator's EvoLink balance (every \`UPSTREAM_CREDITS_CHECK_SECONDS\` while tasks run) and found it under \`UPSTREAM_CREDITS_ALERT\` (\`reason: below_alert\`) or under the credits reserved by every tenant's tasks in flight (\`below_reservations\`). Once per crossing: it fires again only after a read found the balance back above both. ${SIGNED}`,
    eventBody(
      "upstream.credits_low",
      z.object({
        remaining: z.number(),
        used: z.number(),
        open_reservations: z.number(),
        alert_below: z.number().nullable(),
        reason: z.enum(["below_alert", "below_reservations"]),
      }),
    ),
    {
      type: "upstream.credits_low",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: {
        remaining: 180,
        used: 9820,
        open_reservations: 95.2,
        alert_below: 200,
        reason: "below_alert",
      },
    },
  ),
};
