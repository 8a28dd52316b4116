// Usage over HTTP. GET /v1/usage: the caller's own limits and usage (the tenant's, and the user's when the
// token has a `sub`), read from the tenant's Durable Object, which enforces them. GET
// /admin/tenants/{id}/usage: the month's ledger for operators — totals per tenant and user, and per task the
// credits reserved and settled — served from the tenant's Durable Object, which is authoritative.
import { Hono } from "hono";
import { LEDGER_PAGE_MAX } from "../config/constants";
import type { HttpEnv } from "../http/context";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { TENANT_ID_PATTERN } from "../tenants/schema";
import { getTenant } from "../tenants/lookup";
import { fromUnits } from "../quota/arithmetic";
import { monthOf, parseMonth } from "../util/month";
import { limitsOf } from "../quota/limits";
import type { ScopeInput } from "../quota/arithmetic";
import { scopeView } from "./view";
import { uploadTotals, uploadsView } from "../files/usage";

export const usageRoutes = new Hono<TenantEnv>();

usageRoutes.get("/usage", async (c) => {
  const { tenant, sub } = c.get("principal");
  const now = Date.now();
  const limits = limitsOf(tenant);
  const snapshot = await tenantObject(c.env, tenant).usage(sub ?? null, now, limits);
  const scopes: ScopeInput[] = [{ scope: "tenant", limits: limits.tenant, state: snapshot.tenant }];
  if (snapshot.user) scopes.push({ scope: "user", limits: limits.user, state: snapshot.user });
  const view: Record<string, unknown> = { object: "usage" };
  for (const s of scopes) view[s.scope] = scopeView(s.limits, s.state, now);
  if (sub !== undefined) (view.user as Record<string, unknown>).sub = sub;
  const uploads = await tenantObject(c.env, tenant).filesUsage(sub ?? null, now);
  (view.tenant as Record<string, unknown>).uploads = uploadsView(
    limitsOf(tenant).tenant,
    uploads.tenant,
    now,
  );
  if (uploads.user)
    (view.user as Record<string, unknown>).uploads = uploadsView(limitsOf(tenant).user, uploads.user, now);
  return c.json(view, 200, { "cache-control": "no-store" });
});

export const monthUsageRoutes = new Hono<HttpEnv>();

monthUsageRoutes.get("/:id/usage", async (c) => {
  const id = c.req.param("id");
  if (!TENANT_ID_PATTERN.test(id))
    throw new ApiError("invalid_request", "tenant_id must match [a-z0-9][a-z0-9_-]{0,62}", {
      param: "tenant_id",
    });
  const month = c.req.query("month") ?? monthOf(Date.now());
  const monthMs = parseMonth(month);
  if (monthMs === null) throw new ApiError("invalid_request", "month must be YYYY-MM", { param: "month" });
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > LEDGER_PAGE_MAX)
    throw new ApiError("invalid_request", `limit must be an integer between 1 and ${LEDGER_PAGE_MAX}`, {
      param: "limit",
    });
  const tenant = await getTenant(c.env, id);
  if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");

  const page = await tenantObject(c.env, tenant).monthLedger(monthMs, c.req.query("cursor") ?? null, limit);
  const totals = page.totals.map((t) => ({
    scope: t.scope === "tenant" ? "tenant" : "user",
    ...(t.scope === "tenant" ? {} : { sub: t.scope.slice("user:".length) }),
    used: fromUnits(t.usedUnits),
    reserved: fromUnits(t.reservedUnits),
  }));
  return c.json({
    object: "usage_ledger",
    tenant_id: id,
    month,
    limits: { quotas: tenant.quotas ?? {}, user_quotas: tenant.user_quotas ?? {} },
    totals,
    tasks: page.tasks,
    cursor: page.cursor,
    uploads: uploadTotals(await tenantObject(c.env, tenant).filesMonth(month)),
  });
});
