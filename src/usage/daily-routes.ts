// GET /admin/tenants/{id}/usage/daily?month=YYYY-MM: what the console's usage page draws — the month's
// credits per day (reserved and charged), its top users, and the tenant's requests and tasks in flight
// against its limits — in one call to the tenant's Durable Object.
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { fromUnits } from "../quota/arithmetic";
import { monthOf, parseMonth } from "../util/month";
import { tenantObject } from "../state/client";
import { TENANT_ID_PATTERN } from "../tenants/schema";
import { getTenant } from "../tenants/lookup";
import { dayViews, userViews } from "./daily";

export const dailyUsageRoutes = new Hono<HttpEnv>();

dailyUsageRoutes.get("/:id/usage/daily", async (c) => {
  const id = c.req.param("id");
  if (!TENANT_ID_PATTERN.test(id))
    throw new ApiError("invalid_request", "tenant_id must match [a-z0-9][a-z0-9_-]{0,62}", {
      param: "tenant_id",
    });
  const now = Date.now();
  const month = c.req.query("month") ?? monthOf(now);
  const monthMs = parseMonth(month);
  if (monthMs === null) throw new ApiError("invalid_request", "month must be YYYY-MM", { param: "month" });
  const tenant = await getTenant(c.env, id);
  if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");

  const rows = await tenantObject(c.env, tenant).dailyUsage(monthMs, now);
  const quotas = tenant.quotas ?? {};
  const current = month === monthOf(now);
  return c.json(
    {
      object: "usage_daily",
      tenant_id: id,
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
    },
    200,
    { "cache-control": "no-store" },
  );
});
