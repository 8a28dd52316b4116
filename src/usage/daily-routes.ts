// GET /admin/tenants/{tenant_id}/usage/daily?month=YYYY-MM: what the console's usage page draws — the month's
// credits per day (reserved and charged), its top users, the tenant's requests and tasks in flight against
// its limits, and its kept-result storage — in one call to the tenant's Durable Object.
import { Hono } from "hono";
import { query } from "../http/validate";
import { fromUnits } from "../quota/arithmetic";
import { tenantObject } from "../state/client";
import type { AdminEnv } from "../tenants/admin";
import { monthOf, parseMonth } from "../util/month";
import { dayViews, userViews } from "./daily";
import { DailyUsageQuery } from "./query";
import { resultStorageView } from "./storage";

export const dailyUsageRoutes = new Hono<AdminEnv>();

dailyUsageRoutes.get("/:tenant_id/usage/daily", query(DailyUsageQuery), async (c) => {
  const tenant = c.get("tenant");
  const now = Date.now();
  const month = c.req.valid("query").month ?? monthOf(now);
  const monthMs = parseMonth(month)!;
  const rows = await tenantObject(c.env, tenant).dailyUsage(monthMs, now);
  const quotas = tenant.quotas ?? {};
  const current = month === monthOf(now);
  return c.json(
    {
      object: "usage_daily",
      tenant_id: tenant.id,
      month,
      days: dayViews(monthMs, rows.days),
      top_users: userViews(rows.users),
      // Now, whichever month is asked for; the month's credits only for the current month.
      in_flight: { tasks: rows.tenant.active, limit: quotas.max_concurrent_tasks ?? null },
      requests: { last_minute: rows.tenant.window.count, limit: quotas.requests_per_minute ?? null },
      credits: current
        ? {
            charged: fromUnits(rows.tenant.usedUnits),
            held: fromUnits(rows.tenant.reservedUnits),
            limit: quotas.monthly_credits ?? null,
          }
        : null,
      result_storage: resultStorageView(rows.results, quotas.result_storage_bytes ?? null),
    },
    200,
    { "cache-control": "no-store" },
  );
});
