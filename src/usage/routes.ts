// Usage over HTTP. GET /v1/usage: the caller's own limits and usage (the user's when the token has a `sub`,
// the tenant's when it has none), read from the tenant's Durable Object, which enforces them. GET
// /admin/tenants/{tenant_id}/usage: the month's ledger for operators — totals per tenant and user, and per task the
// credits reserved and settled — served from the tenant's Durable Object, which is authoritative.
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import { query } from "../http/validate";
import { fromUnits } from "../quota/arithmetic";
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
  const object = tenantObject(c.env, tenant);
  const snapshot = await object.usage(sub ?? null, now, limits);
  const uploads = await object.filesUsage(sub ?? null, now);
  const noStore = { "cache-control": "no-store" };
  // A user token sees its own scope only: the tenant-wide figures (every user's requests, credits and
  // uploads) are for the tenant's backend, whose tokens carry no `sub`.
  if (sub === undefined) {
    const view = {
      ...scopeView(limits.tenant, snapshot.tenant, now),
      uploads: uploadsView(limits.tenant, uploads.tenant, now),
    };
    return c.json({ object: "usage", tenant: view }, 200, noStore);
  }
  if (!snapshot.user || !uploads.user) throw new Error("usage: the tenant object left out the user's scope");
  const view = {
    sub,
    ...scopeView(limits.user, snapshot.user, now),
    uploads: uploadsView(limits.user, uploads.user, now),
  };
  return c.json({ object: "usage", user: view }, 200, noStore);
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
