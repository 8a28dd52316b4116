// Usage over HTTP. GET /v1/usage: the caller's own limits and usage (the tenant's, and the user's when the
// token has a `sub`), read from the tenant's Durable Object, which enforces them. GET
// /admin/tenants/{tenant_id}/usage: the month's ledger for operators — totals per tenant and user, and per task the
// credits reserved and settled — served from the tenant's Durable Object, which is authoritative.
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import { query } from "../http/validate";
import { fromUnits, type ScopeInput } from "../quota/arithmetic";
import { limitsOf } from "../quota/limits";
import { tenantObject } from "../state/client";
import type { AdminEnv } from "../tenants/admin";
import { monthOf, parseMonth } from "../util/month";
import { MonthUsageQuery } from "./query";
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

export const monthUsageRoutes = new Hono<AdminEnv>();

monthUsageRoutes.get("/:tenant_id/usage", query(MonthUsageQuery), async (c) => {
  const q = c.req.valid("query");
  const tenant = c.get("tenant");
  const month = q.month ?? monthOf(Date.now());
  const page = await tenantObject(c.env, tenant).monthLedger(parseMonth(month)!, q.cursor ?? null, q.limit);
  const totals = page.totals.map((t) => ({
    scope: t.scope === "tenant" ? "tenant" : "user",
    ...(t.scope === "tenant" ? {} : { sub: t.scope.slice("user:".length) }),
    used: fromUnits(t.usedUnits),
    reserved: fromUnits(t.reservedUnits),
  }));
  return c.json({
    object: "usage_ledger",
    tenant_id: tenant.id,
    month,
    limits: { quotas: tenant.quotas ?? {}, user_quotas: tenant.user_quotas ?? {} },
    totals,
    tasks: page.tasks,
    cursor: page.cursor,
    uploads: uploadTotals(await tenantObject(c.env, tenant).filesMonth(month)),
  });
});
