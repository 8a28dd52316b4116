// The query of the admin API's delivery list, as a zod schema: the route validates with it
// (src/http/validate.ts) and its OpenAPI entry is generated from it.
import * as z from "../config/zod";
import { DELIVERY_LIST_MAX } from "../config/constants";
import { integer } from "../http/validate";

const PAGE = {
  limit: integer(1, DELIVERY_LIST_MAX).default(50),
  cursor: z.optional(
    z.pipe(z.string().check(z.regex(/^\d{1,15}$/, "is not one this API returned")), z.transform(Number)),
  ),
};

/** GET /admin/deliveries: the operator's events about no tenant. */
export const OperatorDeliveryListQuery = z.object(PAGE);

/** GET /admin/tenants/{tenant_id}/deliveries. */
export const DeliveryListQuery = z.object({
  ...PAGE,
  /** The tenant's own events (its webhook), or the operator's events about the tenant. */
  audience: z._default(z.enum(["tenant", "operator"]), "tenant"),
});

/** POST /admin/tenants/{tenant_id}/webhook/enable: which endpoint (absent: the tenant's webhook URL). */
export const WebhookEnableBody = z.strictObject({
  url: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
});

/** POST /admin/tenants/{tenant_id}/deliveries/recover: failed and dead-lettered events since this time. */
export const RecoverBody = z.strictObject({
  since: z.pipe(
    z.string().check(
      z.maxLength(40),
      z.refine((v: string) => !Number.isNaN(Date.parse(v)), "must be an ISO 8601 date-time"),
    ),
    z.transform((v: string) => Date.parse(v)),
  ),
});
