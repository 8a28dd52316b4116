// The query strings of the admin API's usage operations, as zod schemas: the routes validate with them
// (src/http/validate.ts) and the OpenAPI entries are generated from them.
import * as z from "../config/zod";
import { LEDGER_PAGE_MAX } from "../config/constants";
import { integer } from "../http/validate";

/** `YYYY-MM` (UTC); absent: the current month, decided when the request is answered. */
const Month = z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM"));

/** GET /admin/tenants/{tenant_id}/usage/daily. */
export const DailyUsageQuery = z.object({ month: z.optional(Month) });

/** GET /admin/tenants/{tenant_id}/usage. */
export const MonthUsageQuery = z.object({
  month: z.optional(Month),
  limit: integer(1, LEDGER_PAGE_MAX).default(100),
  cursor: z.optional(z.string()),
});
