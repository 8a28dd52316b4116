// The admin API of the callback relay (mounted under /admin, behind the admin token): rotating a tenant's
// webhook secret, listing its delivery attempts (the tenant found by src/tenants/admin.ts), sending an
// event again, and its endpoints' health: re-enabling one, recovering failed events, a test event.
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { MAX_BODY_BYTES } from "../config/constants";
import { readOptionalJsonBody } from "../http/body";
import { parseWith, query } from "../http/validate";
import { tenantObject } from "../state/client";
import { type AdminEnv, tenantNotFound } from "../tenants/admin";
import { forgetTenant, getTenant } from "../tenants/lookup";
import { registry } from "../tenants/registry-client";
import { tenantView } from "../tenants/view";
import { isRegistryDelivery, tenantOfDelivery } from "./delivery-log";
import type { WebhookMessage } from "./message";
import { queueRedelivery, queueTestEvent, recoverSince } from "./actions";
import { registryOutbox } from "./owner";
import { DeliveryListQuery, OperatorDeliveryListQuery, WebhookEnableBody } from "./query";

export const webhookAdminRoutes = new Hono<AdminEnv>();

webhookAdminRoutes.post("/tenants/:tenant_id/webhook-secret/rotate", async (c) => {
  const id = c.get("tenant").id;
  // One call: the Registry rotates over its own record, so a concurrent PUT loses neither change.
  const result = await registry(c.env).rotateWebhookSecret(id);
  if (!result.ok) throw tenantNotFound();
  forgetTenant(result.tenant.auth.issuer);
  c.get("log").info("webhook_secret_rotated", {
    tenant_id: id,
    version: result.tenant.version,
    replicated: result.replicated,
  });
  // The new secret is shown this once, like a generated one on creation.
  return c.json(tenantView(result.tenant, { webhookSecret: result.secret }));
});

webhookAdminRoutes.get("/tenants/:tenant_id/deliveries", query(DeliveryListQuery), async (c) => {
  const { limit, cursor, audience } = c.req.valid("query");
  const page = await tenantObject(c.env, c.get("tenant")).listDeliveries(limit, cursor, audience);
  return c.json({ object: "list", data: page.data, cursor: page.cursor });
});

// --- Endpoint health (src/callbacks/health.ts; docs/callbacks.md, "Endpoint health").

webhookAdminRoutes.get("/tenants/:tenant_id/webhook/health", async (c) => {
  const data = await tenantObject(c.env, c.get("tenant")).webhookHealth();
  return c.json({ object: "list", data });
});

webhookAdminRoutes.post("/tenants/:tenant_id/webhook/enable", async (c) => {
  const tenant = c.get("tenant");
  // The body is optional: none (or `{}`) means the tenant's webhook URL.
  const raw = await readOptionalJsonBody(c.req.raw, MAX_BODY_BYTES);
  const url = parseWith(WebhookEnableBody, raw).url ?? tenant.webhook?.url;
  if (!url)
    throw new ApiError("invalid_request", "The tenant has no webhook URL: name the endpoint's url", {
      param: "url",
    });
  const { released } = await tenantObject(c.env, tenant).enableWebhook(url);
  return c.json({ object: "webhook_endpoint", url, state: "enabled", released });
});

webhookAdminRoutes.post("/tenants/:tenant_id/deliveries/recover", async (c) =>
  c.json(await recoverSince(c.env, c.get("tenant"), c.req.raw), 202),
);

webhookAdminRoutes.post("/tenants/:tenant_id/webhook/test", async (c) =>
  c.json(await queueTestEvent(c.env, c.get("tenant")), 202),
);

export const redeliveryRoutes = new Hono<HttpEnv>();

/** The operator's events about no tenant (`upstream.credits_low`), recorded in the Registry. */
redeliveryRoutes.get("/deliveries", query(OperatorDeliveryListQuery), async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const page = await registryOutbox(c.env).listDeliveries(limit, cursor);
  return c.json({ object: "list", data: page.data, cursor: page.cursor });
});

redeliveryRoutes.post("/deliveries/:id/redeliver", async (c) => {
  const deliveryId = c.req.param("id");
  const tenantId = tenantOfDelivery(deliveryId);
  const tenant = tenantId ? await getTenant(c.env, tenantId) : null;
  // RPC typing cannot express the payload's `unknown` values; the object returns a WebhookMessage as is.
  // The Registry's own deliveries (the operator's events about no tenant) are asked of the Registry.
  const message = (
    isRegistryDelivery(deliveryId)
      ? await registryOutbox(c.env).redeliveryMessage(deliveryId)
      : tenant
        ? await tenantObject(c.env, tenant).redeliveryMessage(deliveryId)
        : null
  ) as WebhookMessage | null;
  if (!message) throw new ApiError("delivery_not_found", "No such delivery");
  return c.json(
    await queueRedelivery(c.env, c.get("log"), message, deliveryId, { tenant_id: tenantId }),
    202,
  );
});
