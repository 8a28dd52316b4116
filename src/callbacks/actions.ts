// The webhook actions both the admin API (./admin-routes.ts) and the tenant portal (src/portal/api-routes.ts)
// offer, one implementation each: the routes differ only in who may call them and what else they log.
import type { Env } from "../env";
import { MAX_BODY_BYTES } from "../config/constants";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/log";
import { parseWith } from "../http/validate";
import { type TenantRef, tenantObject } from "../state/client";
import type { Tenant } from "../tenants/schema";
import type { WebhookMessage } from "./message";
import { RecoverBody } from "./query";

/** Puts a kept event on the queue again (same webhook-id and body); the 202 body. */
export async function queueRedelivery(
  env: Env,
  log: Logger,
  message: WebhookMessage,
  deliveryId: string,
  fields: { tenant_id: string | null; by?: "portal" },
) {
  await env.WEBHOOKS.send(message, { contentType: "json" });
  log.info("webhook_redelivery_queued", {
    tenant_id: fields.tenant_id,
    delivery_id: deliveryId,
    event_id: message.event_id,
    ...(fields.by ? { by: fields.by } : {}),
  });
  return {
    object: "redelivery",
    delivery_id: deliveryId,
    event_id: message.event_id,
    status: "queued",
  } as const;
}

/** "Recover since T" (body `{since}`): every failed or dead-lettered event since then, once more; the 202 body. */
export async function recoverSince(env: Env, tenant: TenantRef, request: Request) {
  const { since } = parseWith(RecoverBody, await readJsonBody(request, MAX_BODY_BYTES));
  const { queued } = await tenantObject(env, tenant).recoverDeliveries(since);
  return { object: "recovery", since: new Date(since).toISOString(), queued, status: "queued" } as const;
}

/** A `webhook.test` event to the tenant's webhook URL (400 without one); the 202 body. */
export async function queueTestEvent(env: Env, tenant: Tenant) {
  const url = tenant.webhook?.url;
  if (!url) throw new ApiError("invalid_request", "The tenant has no webhook URL to test", { param: "url" });
  const { event_id } = await tenantObject(env, tenant).sendTestEvent();
  return { object: "test_event", event_id, url, status: "queued" } as const;
}
