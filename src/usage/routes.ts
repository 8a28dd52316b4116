// Usage over HTTP. GET /v1/usage: the caller's own limits and usage (the user's when the token has a `sub`,
// the tenant's when it has none), read from the tenant's Durable Object, which enforces them. GET
// /admin/tenants/{tenant_id}/usage: the month's ledger for operators — totals per tenant and user, and per task the
// credits reserved and settled, the month's uploads and kept-result storage — served from the tenant's Durable
// Object, which is authoritative.
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
import { uploadLimits } from "../files/quota";
import { resultStorageTotals, resultsView } from "./storage";

export const usageRoutes = new Hono<TenantEnv>();

usageRoutes.get("/usage", async (c) => {
  const { tenant, sub } = c.get("principal");
  const now = Date.now();
  const limits = limitsOf(tenant);
  // Uploads under the limits they are held to (with R2, EvoLink's default `max_files` when none is set).
  const upload = uploadLimits(tenant, c.get("config").filesBackend);
  const object = tenantObject(c.env, tenant);
  const snapshot = await object.usage(sub ?? null, now, limits);
  const { uploads, results } = await object.storageUsage(sub ?? null, now);
  const noStore = { "cache-control": "no-store" };
  // A user token sees its own scope only: the tenant-wide figures (every user's requests, credits, uploads
  // and kept results) are for the tenant's backend, whose tokens carry no `sub`.
  if (sub === undefined) {
    const view = {
      ...scopeView(limits.tenant, snapshot.tenant, now),
      uploads: uploadsView(upload.tenant, uploads.tenant, now),
      results: resultsView(limits.tenant, results.tenant, now),
    };
    return c.json({ object: "usage", tenant: view }, 200, noStore);
  }
  if (!snapshot.user || !uploads.user || !results.user)
    throw new Error("usage: the tenant object left out the user's scope");
  const view = {
    sub,
    ...scopeView(limits.user, snapshot.user, now),
    uploads: uploadsView(upload.user, uploads.user, now),
    results: resultsView(limits.user, results.user, now),
  };
  return c.json({ object: "usage", user: view }, 200, noStore);
});

export const monthUsageRoutes = new Hono<AdminEnv>();

monthUsageRoutes.get("/:tenant_id/usage", query(MonthUsageQuery), async (c) => {
  const q = c.req.valid("query");
  const tenant = c.get("tenant");
  const month = q.month ?? monthOf(Date.now());
  const monthMs = parseMonth(month)!;
  const object = tenantObject(c.env, tenant);
  const page = await object.monthLedger(monthMs, q.cursor ?? null, q.limit);
  const stored = await object.storageMonth(monthMs, Date.now());
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
    uploads: uploadTotals(stored.uploads),
    result_storage: resultStorageTotals(stored.results),
  });
});
