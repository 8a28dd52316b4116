// The admin API of the callback relay (mounted under /admin, behind the admin token): rotating a tenant's
// webhook secret, listing its delivery attempts, and sending an event again.
import { Hono } from "hono";
import { DELIVERY_LIST_MAX } from "../config/constants";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { registry } from "../tenants/registry-client";
import { type Tenant, TENANT_ID_PATTERN } from "../tenants/schema";
import { forgetTenant, getTenant } from "../tenants/lookup";
import { tenantView } from "../tenants/view";
import { tenantOfDelivery } from "./delivery-log";
import type { WebhookMessage } from "./message";

export const webhookAdminRoutes = new Hono<HttpEnv>();

async function existingTenant(env: HttpEnv["Bindings"], id: string): Promise<Tenant> {
  const tenant = TENANT_ID_PATTERN.test(id) ? await getTenant(env, id) : null;
  if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");
  return tenant;
}

webhookAdminRoutes.post("/tenants/:id/webhook-secret/rotate", async (c) => {
  const id = c.req.param("id");
  // One call: the Registry rotates over its own record, so a concurrent PUT loses neither change.
  const result = TENANT_ID_PATTERN.test(id) ? await registry(c.env).rotateWebhookSecret(id) : null;
  if (!result?.ok) throw new ApiError("tenant_not_found", "No such tenant");
  forgetTenant(result.tenant.auth.issuer);
  c.get("log").info("webhook_secret_rotated", {
    tenant_id: id,
    version: result.tenant.version,
    replicated: result.replicated,
  });
  // The new secret is shown this once, like a generated one on creation.
  return c.json(tenantView(result.tenant, { webhookSecret: result.secret }));
});

webhookAdminRoutes.get("/tenants/:id/deliveries", async (c) => {
  const tenant = await existingTenant(c.env, c.req.param("id"));
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? 50 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > DELIVERY_LIST_MAX)
    throw new ApiError("invalid_request", `limit must be an integer between 1 and ${DELIVERY_LIST_MAX}`, {
      param: "limit",
    });
  const cursorRaw = c.req.query("cursor");
  if (cursorRaw !== undefined && !/^\d{1,15}$/.test(cursorRaw))
    throw new ApiError("invalid_request", "cursor is not one this API returned", { param: "cursor" });
  const page = await tenantObject(c.env, tenant).listDeliveries(
    limit,
    cursorRaw === undefined ? undefined : Number(cursorRaw),
  );
  return c.json({ object: "list", data: page.data, cursor: page.cursor });
});

webhookAdminRoutes.post("/deliveries/:id/redeliver", async (c) => {
  const deliveryId = c.req.param("id");
  const tenantId = tenantOfDelivery(deliveryId);
  const tenant = tenantId && TENANT_ID_PATTERN.test(tenantId) ? await getTenant(c.env, tenantId) : null;
  // RPC typing cannot express the payload's `unknown` values; the object returns a WebhookMessage as is.
  const message = (
    tenant ? await tenantObject(c.env, tenant).redeliveryMessage(deliveryId) : null
  ) as WebhookMessage | null;
  if (!message) throw new ApiError("delivery_not_found", "No such delivery");
  await c.env.WEBHOOKS.send(message, { contentType: "json" });
  c.get("log").info("webhook_redelivery_queued", {
    tenant_id: tenantId,
    delivery_id: deliveryId,
    event_id: message.event_id,
  });
  return c.json(
    { object: "redelivery", delivery_id: deliveryId, event_id: message.event_id, status: "queued" },
    202,
  );
});
