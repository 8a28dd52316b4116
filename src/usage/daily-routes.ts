// GET /admin/tenants/{tenant_id}/usage/daily?month=YYYY-MM: what the console's usage page draws — the month's
// credits per day (reserved and charged), its top users, the tenant's requests and tasks in flight against
// its limits, and its kept-result storage — in one call to the tenant's Durable Object.
import { Hono } from "hono";
import type { Env } from "../env";
import type { Tenant } from "../tenants/schema";
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
  const body = await dailyUsageView(c.env, c.get("tenant"), c.req.valid("query").month, Date.now());
  return c.json(body, 200, { "cache-control": "no-store" });
});

/** The body of GET …/usage/daily for `month` (default: this one); the tenant portal shows the same. */
export async function dailyUsageView(env: Env, tenant: Tenant, asked: string | undefined, now: number) {
  const month = asked ?? monthOf(now);
  const monthMs = parseMonth(month)!;
  const rows = await tenantObject(env, tenant).dailyUsage(monthMs, now);
  const quotas = tenant.quotas ?? {};
  const current = month === monthOf(now);
  return {
    object: "usage_daily" as const,
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
  };
}
