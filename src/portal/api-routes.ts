// The tenant portal's API, /portal/api/{tenant_id}/… with a portal token (docs/portal.md): what the portal
// page shows and does, each route the same TenantState calls and modules as its admin counterpart, scoped to
// the token's tenant. Anything of another tenant, or not there, is the one 404 `not_found`; an action the
// link does not allow is 403 `forbidden`.
// The webhook endpoint's health, re-enable and test event (`edit_webhook`) and "recover since T"
// (`redeliver`) call the same TenantState methods as the admin routes (src/callbacks/health.ts).
import { Hono } from "hono";
import { MAX_BODY_BYTES } from "../config/constants";
import { readJsonBody, readOptionalJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { parseWith, query } from "../http/validate";
import { checkGatewayUrl } from "../net/urls";
import { presentResults } from "../results/url";
import { tenantObject } from "../state/client";
import { tenantOfDelivery } from "../callbacks/delivery-log";
import type { WebhookMessage } from "../callbacks/message";
import { queueRedelivery, queueTestEvent, recoverSince } from "../callbacks/actions";
import { OperatorDeliveryListQuery, WebhookEnableBody } from "../callbacks/query";
import { FileListQuery } from "../files/query";
import { fileView } from "../files/view";
import { openTaskId } from "../tasks/ids";
import { adminTaskView, parseSnapshot } from "../tasks/list";
import { AdminTaskListQuerySchema } from "../tasks/list-query";
import { listPage, withinReach } from "../tasks/list-routes";
import { forgetTenant } from "../tenants/lookup";
import { registry } from "../tenants/registry-client";
import { webhookView } from "../tenants/view";
import { DEFAULT_ALERT_THRESHOLDS } from "../config/constants";
import { DailyUsageQuery } from "../usage/query";
import { dailyUsageView } from "../usage/daily-routes";
import { WebhookUrlBody } from "./query";
import { type PortalEnv, portalAuth, portalNotFound, requires, sameTenant } from "./auth";

/** The page's list of deliveries: one page of the tenant's own events (never the operator's about it). */
const DeliveryPageQuery = OperatorDeliveryListQuery;

export const portalApiRoutes = new Hono<PortalEnv>();

portalApiRoutes.use("*", portalAuth());
portalApiRoutes.use("/:tenant_id/*", sameTenant());

portalApiRoutes.get("/:tenant_id/session", (c) => {
  const { tenant, portal } = { tenant: c.get("tenant"), portal: c.get("portal") };
  return c.json(
    {
      object: "portal_session",
      tenant_id: tenant.id,
      name: tenant.name,
      status: tenant.status,
      capabilities: portal.capabilities,
      expires_at: new Date(portal.expiresAt).toISOString(),
    },
    200,
    { "cache-control": "no-store" },
  );
});

portalApiRoutes.get("/:tenant_id/usage", query(DailyUsageQuery), async (c) => {
  const tenant = c.get("tenant");
  const usage = await dailyUsageView(c.env, tenant, c.req.valid("query").month, Date.now());
  const quotas = tenant.quotas ?? {};
  const alerts = {
    monthly_credits: quotas.monthly_credits ?? null,
    thresholds: [...(quotas.alert_thresholds ?? DEFAULT_ALERT_THRESHOLDS)],
  };
  return c.json({ ...usage, alerts }, 200, { "cache-control": "no-store" });
});

portalApiRoutes.get("/:tenant_id/tasks", query(AdminTaskListQuerySchema), async (c) => {
  const q = withinReach(c.req.valid("query"));
  const { page, meta } = await listPage(c, c.get("tenant"), q.sub ?? null, q);
  // The upstream's id is the operator's support handle with EvoLink, not the tenant's.
  const data = page.data.map(({ upstream_id: _upstream, ...item }) => item);
  return c.json({ data, total: page.total, ...meta, total_exact: page.totalExact }, 200, {
    "cache-control": "no-store",
  });
});

portalApiRoutes.get("/:tenant_id/tasks/:task_id", async (c) => {
  const tenant = c.get("tenant");
  const config = c.get("config");
  const id = c.req.param("task_id");
  // An id sealed for another tenant (or life of it) does not open: no object call for it.
  const claims = await openTaskId(
    config.signingSecret,
    { tenantId: tenant.id, incarnation: tenant.incarnation },
    id,
  );
  const found = claims && (await tenantObject(c.env, tenant).adminTask(id));
  const view = found && adminTaskView(found.record, found.resultStates);
  if (!found || !view) throw portalNotFound();
  const { upstream_id: _upstream, ...task } = view;
  const sources = parseSnapshot(found.record.snapshot)?.results ?? [];
  const results = await presentResults(config, tenant, found.record, sources);
  return c.json({ ...task, results }, 200, { "cache-control": "no-store" });
});

portalApiRoutes.get("/:tenant_id/deliveries", query(DeliveryPageQuery), async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const page = await tenantObject(c.env, c.get("tenant")).listDeliveries(limit, cursor, "tenant");
  return c.json({ object: "list", data: page.data, cursor: page.cursor }, 200, {
    "cache-control": "no-store",
  });
});

portalApiRoutes.post("/:tenant_id/deliveries/:delivery_id/redeliver", requires("redeliver"), async (c) => {
  const tenant = c.get("tenant");
  const deliveryId = c.req.param("delivery_id");
  // RPC typing cannot express the payload's `unknown` values; the object returns a WebhookMessage as is.
  const message =
    tenantOfDelivery(deliveryId) === tenant.id
      ? ((await tenantObject(c.env, tenant).redeliveryMessage(deliveryId)) as WebhookMessage | null)
      : null;
  // The operator's events about the tenant are the operator's to send again.
  if (!message || (message.audience ?? "tenant") !== "tenant") throw portalNotFound();
  const log = c.get("log");
  return c.json(
    await queueRedelivery(c.env, log, message, deliveryId, { tenant_id: tenant.id, by: "portal" }),
    202,
  );
});

portalApiRoutes.get("/:tenant_id/webhook", async (c) => {
  const tenant = c.get("tenant");
  const health = await tenantObject(c.env, tenant).webhookHealth();
  return c.json({ object: "webhook", ...webhookView(tenant), health }, 200, { "cache-control": "no-store" });
});

portalApiRoutes.post("/:tenant_id/webhook/enable", requires("edit_webhook"), async (c) => {
  const tenant = c.get("tenant");
  const raw = await readOptionalJsonBody(c.req.raw, MAX_BODY_BYTES);
  const url = parseWith(WebhookEnableBody, raw).url ?? tenant.webhook?.url;
  const object = tenantObject(c.env, tenant);
  // Only an endpoint of this tenant's: anything else is the uniform not-found.
  if (!url || !(await object.webhookHealth()).some((e) => e.url === url)) throw portalNotFound();
  const { released } = await object.enableWebhook(url);
  c.get("log").info("webhook_enabled", { tenant_id: tenant.id, released, by: "portal" });
  return c.json({ object: "webhook_endpoint", url, state: "enabled", released });
});

portalApiRoutes.post("/:tenant_id/webhook/test-event", requires("edit_webhook"), async (c) =>
  c.json(await queueTestEvent(c.env, c.get("tenant")), 202),
);

portalApiRoutes.post("/:tenant_id/deliveries/recover", requires("redeliver"), async (c) => {
  const tenant = c.get("tenant");
  const recovery = await recoverSince(c.env, tenant, c.req.raw);
  c.get("log").info("webhook_recovery_queued", {
    tenant_id: tenant.id,
    queued: recovery.queued,
    by: "portal",
  });
  return c.json(recovery, 202);
});

portalApiRoutes.put("/:tenant_id/webhook", requires("edit_webhook"), async (c) => {
  const tenant = c.get("tenant");
  const { url } = parseWith(WebhookUrlBody, await readJsonBody(c.req.raw, MAX_BODY_BYTES));
  const verdict = checkGatewayUrl(url, { allowLocal: c.get("config").devAllowLocalUrls });
  if (!verdict.ok) throw new ApiError("invalid_request", `url: ${verdict.reason}`, { param: "url" });
  const result = await registry(c.env).setWebhookUrl(tenant.id, tenant.incarnation, url);
  if (!result.ok) throw portalNotFound();
  forgetTenant(result.tenant.auth.issuer);
  c.get("log").info("webhook_url_set", {
    tenant_id: tenant.id,
    version: result.tenant.version,
    by: "portal",
  });
  return c.json({ object: "webhook", ...webhookView(result.tenant) });
});

portalApiRoutes.post("/:tenant_id/webhook/rotate-secret", requires("rotate_secret"), async (c) => {
  const tenant = c.get("tenant");
  // The Registry rotates over its own record, as for the admin route.
  const result = await registry(c.env).rotateWebhookSecret(tenant.id);
  if (!result.ok || result.tenant.incarnation !== tenant.incarnation) throw portalNotFound();
  forgetTenant(result.tenant.auth.issuer);
  c.get("log").info("webhook_secret_rotated", {
    tenant_id: tenant.id,
    version: result.tenant.version,
    by: "portal",
  });
  // Shown this once, as on the admin route.
  return c.json({ object: "webhook", ...webhookView(result.tenant, { webhookSecret: result.secret }) });
});

portalApiRoutes.get("/:tenant_id/uploads", query(FileListQuery), async (c) => {
  const tenant = c.get("tenant");
  const { page, pageSize } = c.req.valid("query");
  const result = await tenantObject(c.env, tenant).filesList(
    null,
    Date.now(),
    (page - 1) * pageSize,
    pageSize,
  );
  const files = await Promise.all(result.files.map((f) => fileView(c, f, tenant)));
  return c.json({ object: "list", data: files, total: result.total, page, page_size: pageSize }, 200, {
    "cache-control": "no-store",
  });
});
